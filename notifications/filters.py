"""The Message Center's filters: read or unread, the customer (name or the first digits of its
UIN, as My Customers searches), and the threshold or kind of alert the message is about."""

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from console.filters import StrictFilterSet
from core.inputs import uin_prefix_ranges
from core.rules import THRESHOLDS, band_label

from .models import Alert, Message

CUSTOM = "custom"
BACK_UNDER = "back"
ALERT_CHOICES = [
    *((str(threshold), band_label(threshold)) for threshold in THRESHOLDS),
    (CUSTOM, _("Custom balance warning")),
    (BACK_UNDER, _("Back under a threshold")),
]
STATE_CHOICES = [("unread", _("Unread")), ("read", _("Read"))]


class MessageFilter(StrictFilterSet):
    state = django_filters.ChoiceFilter(label=_("Status"), choices=STATE_CHOICES, method="filter_state",
                                        empty_label=_("Read and unread"))
    customer = django_filters.CharFilter(
        label=_("Customer"), method="filter_customer", max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Customer name or UIN"), "autocomplete": "off"}),
    )
    alert = django_filters.ChoiceFilter(label=_("Alert"), choices=ALERT_CHOICES, method="filter_alert",
                                        empty_label=_("Every alert"))

    search_filters = ("customer",)

    class Meta:
        model = Message
        fields = []

    def filter_state(self, queryset, name, value):
        return queryset.filter(read_at__isnull=value == "unread")

    def filter_customer(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        match = Q(customer__name__icontains=value)
        for low, high in uin_prefix_ranges(value):
            match |= Q(customer__uin__range=(low, high))
        return queryset.filter(match)

    def filter_alert(self, queryset, name, value):
        if value == CUSTOM:
            return queryset.filter(alert__kind=Alert.Kind.CUSTOM)
        if value == BACK_UNDER:
            return queryset.filter(alert__kind=Alert.Kind.REARMED)
        return queryset.filter(alert__kind=Alert.Kind.THRESHOLD, alert__threshold=int(value))
