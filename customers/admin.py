from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from core.timezones import time_zone_choices

from .models import Customer, Member, Reseller, default_reseller_time_zone


class MemberInline(admin.TabularInline):
    model = Member
    extra = 0
    autocomplete_fields = ["user"]


class ResellerAdminForm(forms.ModelForm):
    # A list, not free text: a name the zoneinfo database does not hold cannot be entered. A stored
    # bad value matches no option, so the blank one shows and saving asks for a real zone.
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        choices=lambda: [("", "---------"), *time_zone_choices()],
        initial=default_reseller_time_zone,
        help_text=_("Alert days, and the times the console and the API show, follow this zone."),
    )

    class Meta:
        model = Reseller
        fields = "__all__"


@admin.register(Reseller)
class ResellerAdmin(admin.ModelAdmin):
    form = ResellerAdminForm
    list_display = ["name", "uin", "contact_email", "contact_phone", "time_zone", "customer_alerts_enabled"]
    search_fields = ["name", "uin", "contact_email"]
    inlines = [MemberInline]

    def save_model(self, request, obj, form, change):
        from credits.models import CreditPool

        super().save_model(request, obj, form, change)
        CreditPool.objects.get_or_create(reseller=obj)


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    list_display = ["user", "reseller", "role"]
    list_filter = ["role", "reseller"]
    search_fields = ["user__username", "reseller__name"]
    autocomplete_fields = ["user", "reseller"]


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["uin", "name", "reseller", "email", "credit", "used", "available", "account_status", "bound_at"]
    list_filter = ["account_status", "identity_type", "usage_band"]
    search_fields = ["=uin", "name", "email"]
    list_select_related = ["reseller"]
    show_full_result_count = False
    # Credit and usage change only through the services, so that the ledger stays conserved.
    readonly_fields = ["credit", "used", "available", "usage_band"]
    autocomplete_fields = ["reseller"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            return [*self.readonly_fields, "reseller", "uin"]
        return self.readonly_fields
