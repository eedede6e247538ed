import django_filters
from django import forms
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from console.filters import StrictFilterSet
from core.inputs import uin_prefix_ranges
from core.rules import THRESHOLDS, band_label

from .models import Customer

RUNS_OUT_MAX = 3650
USAGE_BANDS = [(str(threshold), band_label(threshold)) for threshold in THRESHOLDS]


class CustomerFilter(StrictFilterSet):
    q = django_filters.CharFilter(
        label=_("Search"), method="search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "UIN, name, remark or email", "autocomplete": "off"}),
    )
    status = django_filters.ChoiceFilter(
        label=_("Account status"), choices=Customer.AccountStatus.choices, method="filter_status",
        empty_label=_("All statuses"),
    )
    # The balance's usage_band is stored and indexed (reseller, usage_band): "≥ 90 %" is an index range, not a
    # used / credit computation over every row.
    band = django_filters.ChoiceFilter(label=_("Usage"), choices=USAGE_BANDS, method="filter_band", empty_label=_("Any usage"))
    # days_to_zero is stored and indexed (reseller, days_to_zero, customer): "within 7 days" is an
    # index range. Customers that spend nothing (no run-out date) never match.
    runs_out = django_filters.NumberFilter(
        label=_("Runs out within (days)"), method="filter_runs_out",
        min_value=0, max_value=RUNS_OUT_MAX, decimal_places=0,
        widget=forms.NumberInput(attrs={"min": 0, "max": RUNS_OUT_MAX, "step": 1, "placeholder": _("Runs out within N days"),
                                        "inputmode": "numeric"}),
    )

    class Meta:
        model = Customer
        fields = []

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        match = Q(name__icontains=value) | Q(remark__icontains=value) | Q(email__icontains=value)
        # A UIN matches from its first digits: "20000000011" finds 200000000110-200000000119.
        for low, high in uin_prefix_ranges(value):
            match |= Q(uin__range=(low, high))
        return queryset.filter(match)

    def filter_status(self, queryset, name, value):
        # The stored status; customers not normal come from the balance's partial index.
        return queryset.filter(balance__status=value, balance__reseller=F("reseller"))

    def filter_runs_out(self, queryset, name, value):
        return queryset.filter(balance__days_to_zero__lte=int(value), balance__reseller=F("reseller"))

    def filter_band(self, queryset, name, value):
        return queryset.filter(balance__usage_band__gte=int(value), balance__reseller=F("reseller"))
