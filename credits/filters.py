from datetime import datetime, time, timedelta

import django_filters
from django import forms
from django.utils import timezone

from credits.models import AllocationRecord

RECORD_TYPES = [("allocate", "Allocate"), ("repossess", "Repossess")]
UIN_MAX = 2**63 - 1


def _start_of(day):
    """Midnight of `day` in the reseller's time zone (activated for the request)."""
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


class AllocationRecordFilter(django_filters.FilterSet):
    date_from = django_filters.DateFilter(label="From", method="filter_from", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = django_filters.DateFilter(label="To", method="filter_to", widget=forms.DateInput(attrs={"type": "date"}))
    type = django_filters.ChoiceFilter(label="Type", choices=RECORD_TYPES, method="filter_type", empty_label="All types")
    uin = django_filters.NumberFilter(
        label="Customer UIN", method="filter_uin",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    operator = django_filters.CharFilter(
        label="Operator", field_name="operator_name", lookup_expr="iexact",
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "user name or API key"}),
    )

    class Meta:
        model = AllocationRecord
        fields = []

    # created_at ranges walk the (reseller, -created_at, -id) index.
    def filter_from(self, queryset, name, value):
        return queryset.filter(created_at__gte=_start_of(value))

    def filter_to(self, queryset, name, value):
        return queryset.filter(created_at__lt=_start_of(value + timedelta(days=1)))

    def filter_type(self, queryset, name, value):
        return queryset.filter(amount__gt=0) if value == "allocate" else queryset.filter(amount__lt=0)

    def filter_uin(self, queryset, name, value):
        if value != int(value) or not 0 < value <= UIN_MAX:
            return queryset.none()
        return queryset.filter(customer__uin=int(value))
