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
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("UIN, name, remark or email"), "autocomplete": "off"}),
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

    search_filters = ("q",)

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

    # The filters that read the customer's balance alone: the balance's lookup and the value's type.
    BALANCE_LOOKUPS = {"status": ("status", str), "band": ("usage_band__gte", int), "runs_out": ("days_to_zero__lte", int)}

    def _on_balance(self, queryset, name, value):
        lookup, kind = self.BALANCE_LOOKUPS[name]
        # The stored, indexed balance columns (status: its partial index; band and days to zero:
        # (reseller, column, customer) indexes), the balance's reseller said to be the customer's.
        return queryset.filter(**{f"balance__{lookup}": kind(value)}, balance__reseller=F("reseller"))

    filter_status = filter_band = filter_runs_out = _on_balance

    def balance_conditions(self) -> dict | None:
        """The filters set, as lookups on the customers' balances, when every filter set reads the
        balance alone (no search): a balance has its customer's reseller (the composite foreign
        key of migration customers 0010), so the reseller's balances matching them are exactly as
        many as the customers listed, and one index counts them. None otherwise."""
        if not self.is_bound or self.errors or self.searched():
            return None
        data = self.form.cleaned_data
        conditions = {}
        for name, (lookup, kind) in self.BALANCE_LOOKUPS.items():
            if data.get(name) not in (None, ""):
                conditions[lookup] = kind(data[name])
        return conditions or None
