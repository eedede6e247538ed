"""Filters of the console's lists: a filter set that selects nothing for an invalid value, and the
fields every list reads the same way (a day, a UIN)."""

import copy
from datetime import date

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from core.inputs import uin_or_none

# Wide enough for every record, and narrow enough that midnight after the last day exists in every
# time zone (9999-12-31 has no day after it; 0001-01-01 in UTC+8 is before the first UTC instant).
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2099, 12, 31)


class _FiltersCopiedOneLevel(dict):
    """A filter set class's filters, which each filter set made from it copies: one level deep (a
    copy of each filter, without the form field a filter builds for its filter set) rather than
    django-filter's deepcopy, which walked every filter's arguments, choices and labels on every
    request. What a filter set changes on its filters (parent, model, its field, its method's
    binding) it sets on its own copy; a widget given as an argument is copied by the form field made from it."""

    def __deepcopy__(self, memo):
        copies = {}
        for name, filter_ in self.items():
            copied = copy.copy(filter_)
            copied.__dict__.pop("_field", None)
            if filter_.method is not None:
                copied.method = filter_.method  # its FilterMethod bound to the copy, not to the declared filter
            copies[name] = copied
        return copies


class StrictFilterSet(django_filters.FilterSet):
    """A filter value that is not valid selects nothing, and the form says why beside the field.
    (django-filter alone would drop just that filter and list more than was asked for.)"""

    def __init__(self, *args, **kwargs):
        cls = type(self)
        if not isinstance(cls.__dict__.get("base_filters"), _FiltersCopiedOneLevel):
            cls.base_filters = _FiltersCopiedOneLevel(cls.base_filters)
        super().__init__(*args, **kwargs)

    def get_form_class(self):
        """The form class of this filter set's class and filters, built once per process: its fields
        are the declared filters' (their labels and choices lazy, in the request's language when
        shown), and each form made from it copies them. django-filter built a new class, through
        the forms' metaclass, and new fields on every request. Kept per set of filter names, as a
        view may remove filters before the form is built (a customer's records have no UIN field)."""
        cls = type(self)
        classes = cls.__dict__.get("_form_classes")
        if classes is None:
            classes = cls._form_classes = {}
        names = tuple(self.filters)
        form_class = classes.get(names)
        if form_class is None:
            form_class = classes[names] = super().get_form_class()
        return form_class

    # The filters that search text (LIKE patterns, whose rows the planner estimates from the column
    # histograms ANALYZE sampled): see console.tables.ConsoleTable.searched.
    search_filters: tuple[str, ...] = ()

    def searched(self) -> bool:
        """Whether a valid search narrows the list."""
        if not self.search_filters or not self.is_bound or not self.form.is_valid():
            return False
        return any(str(self.form.cleaned_data.get(name) or "").strip() for name in self.search_filters)

    def filter_queryset(self, queryset):
        if not self.form.is_valid():
            return queryset.none()
        return super().filter_queryset(queryset)


class FilterDateField(forms.DateField):
    """A day written YYYY-MM-DD, as every table writes it (DESIGN §9): a text field, because a
    browser's date picker shows the day in its own locale's order (mm/dd/yyyy in en-US)."""

    widget = forms.DateInput(
        format="%Y-%m-%d",
        attrs={"placeholder": "YYYY-MM-DD", "pattern": r"\d{4}-\d{2}-\d{2}", "inputmode": "numeric",
               "maxlength": "10", "size": "10", "autocomplete": "off"},
    )
    input_formats = ["%Y-%m-%d"]
    default_error_messages = {"invalid": _("Enter the day as YYYY-MM-DD, such as 2026-11-30.")}

    def validate(self, value):
        super().validate(value)
        if value is not None and not FIRST_DAY <= value <= LAST_DAY:
            raise ValidationError(
                _("Enter a date from %(first)s to %(last)s."), code="out_of_range",
                params={"first": FIRST_DAY.isoformat(), "last": LAST_DAY.isoformat()},
            )


class UinField(forms.CharField):
    """A customer UIN: ASCII digits only, as everywhere a UIN is read (core.inputs)."""

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
