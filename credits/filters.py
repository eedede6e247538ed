from datetime import date, datetime, time, timedelta

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from console.filters import StrictFilterSet
from core.inputs import uin_or_none
from credits.models import AllocationRecord

RECORD_TYPES = [("allocate", _("Allocate")), ("repossess", _("Repossess"))]
# Wide enough for every record, and narrow enough that midnight after the last day exists in every
# time zone (9999-12-31 has no day after it; 0001-01-01 in UTC+8 is before the first UTC instant).
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2099, 12, 31)


def _start_of(day):
    """Midnight of `day` in the reseller's time zone (activated for the request)."""
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


class FilterDateField(forms.DateField):
    widget = forms.DateInput(attrs={"type": "date", "min": FIRST_DAY.isoformat(), "max": LAST_DAY.isoformat()})

    def validate(self, value):
        super().validate(value)
        if value is not None and not FIRST_DAY <= value <= LAST_DAY:
            raise ValidationError(
                _("Enter a date from %(first)s to %(last)s."), code="out_of_range",
                params={"first": FIRST_DAY.isoformat(), "last": LAST_DAY.isoformat()},
            )


class UinField(forms.CharField):
    """A customer UIN: ASCII digits only, as everywhere a UIN is read."""

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        uin = uin_or_none(value)
        if uin is None:
            raise ValidationError(
                _("Enter a customer UIN: a whole number of up to 19 digits 0-9, such as 100012345678."), code="invalid"
            )
        return uin


class DayFilter(django_filters.DateFilter):
    field_class = FilterDateField


class UinFilter(django_filters.Filter):
    field_class = UinField


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
