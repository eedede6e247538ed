from datetime import datetime, time, timedelta

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from console.filters import DayFilter, StrictFilterSet, UinFilter
from credits.models import AllocationRecord

RECORD_TYPES = [("allocate", _("Allocate")), ("repossess", _("Repossess"))]


def _start_of(day):
    """Midnight of `day` in the reseller's time zone (activated for the request)."""
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


class AllocationRecordFilterForm(forms.Form):
    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", ValidationError(
                _("“To” is before “From”: pick %(start)s or a later day."), code="before_from",
                params={"start": start.isoformat()},
            ))
        return cleaned


class AllocationRecordFilter(StrictFilterSet):
    date_from = DayFilter(label=_("From"), method="filter_from")
    date_to = DayFilter(label=_("To"), method="filter_to")
    type = django_filters.ChoiceFilter(label=_("Type"), choices=RECORD_TYPES, method="filter_type", empty_label=_("All types"))
    uin = UinFilter(
        label=_("Customer UIN"), method="filter_uin",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    operator = django_filters.CharFilter(
        label=_("Operator"), field_name="operator_name", lookup_expr="iexact",
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": _("user name or API key")}),
    )

    class Meta:
        model = AllocationRecord
        fields = []
        form = AllocationRecordFilterForm

    # created_at ranges walk the (reseller, -created_at, -id) index.
    def filter_from(self, queryset, name, value):
        return queryset.filter(created_at__gte=_start_of(value))

    def filter_to(self, queryset, name, value):
        return queryset.filter(created_at__lt=_start_of(value + timedelta(days=1)))

    def filter_type(self, queryset, name, value):
        return queryset.filter(amount__gt=0) if value == "allocate" else queryset.filter(amount__lt=0)

    def filter_uin(self, queryset, name, value):
        return queryset.filter(customer__uin=value)
