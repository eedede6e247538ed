from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from console.admin_lists import LargeTableAdmin
from core.errors import DomainError
from core.inputs import uin_or_none, uin_rule
from core.timezones import time_zone_choices
from customers.models import Member, Reseller, default_reseller_time_zone

from . import services
from .models import AllocationRecord, CreditPool, PoolApplication, PoolGrant, Repayment, UsageCharge


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
    # No Meta: ModelAdmin.get_form builds the form for Reseller from this class, with every field.

    def clean_uin(self):
        # The one UIN rule (core.inputs), as reseller_create applies it: refused here beside the field
        # rather than by the service after the form was accepted.
        uin = uin_or_none(self.cleaned_data.get("uin"))
        if uin is None:
            raise forms.ValidationError(_("Enter a valid UIN: %(rule)s.") % {"rule": uin_rule()})
        return uin


# Resellers are onboarded here rather than in customers/admin.py: a reseller comes with its
# customer-credit pool, and credits is the app that knows both (it sits above customers).
@admin.register(Reseller)
class ResellerAdmin(admin.ModelAdmin):
    form = ResellerAdminForm
    list_display = ["name", "uin", "contact_email", "contact_phone", "time_zone", "customer_alerts_enabled",
                    "suspension_allowlisted"]
    list_filter = ["suspension_allowlisted"]
    search_fields = ["name", "uin", "contact_email"]
    inlines = [MemberInline]

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        # A new reseller comes with its customer-credit pool: the service writes both, as every
        # other way of onboarding does. The members of the inline are then saved against it.
        created = services.reseller_create(**form.cleaned_data)
        obj.pk, obj._state.adding, obj._state.db = created.pk, False, created._state.db


@admin.register(CreditPool)
class CreditPoolAdmin(admin.ModelAdmin):
    list_display = ["reseller", "total", "allocated", "remaining", "updated_at"]
    search_fields = ["reseller__name", "reseller__uin"]
    readonly_fields = ["reseller", "total", "remaining", "updated_at"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PoolApplication)
class PoolApplicationAdmin(admin.ModelAdmin):
    list_display = ["id", "reseller", "amount", "status", "submitted_by", "submitted_at", "reviewed_by", "reviewed_at"]
    list_filter = ["status"]
    search_fields = ["reseller__name", "reseller__uin", "reason"]
    readonly_fields = ["reseller", "amount", "reason", "status", "submitted_by", "submitted_at", "reviewed_by", "reviewed_at"]
    actions = ["approve", "reject"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def _review(self, request, queryset, service, verb):
        done = 0
        for application in queryset:
            try:
                service(application=application, actor=request.user, note=f"{verb} in admin")
                done += 1
            except DomainError as error:
                self.message_user(request, f"Application #{application.pk}: {error.message}", messages.ERROR)
        if done:
            self.message_user(request, f"{verb} {done} application(s).", messages.SUCCESS)

    @admin.action(description="Approve selected applications (grants the credit)")
    def approve(self, request, queryset):
        self._review(request, queryset, services.pool_application_approve, "Approved")

    @admin.action(description="Reject selected applications")
    def reject(self, request, queryset):
        self._review(request, queryset, services.pool_application_reject, "Rejected")


@admin.register(PoolGrant)
class PoolGrantAdmin(admin.ModelAdmin):
    list_display = ["reseller", "amount", "application", "granted_by", "note", "created_at"]
    search_fields = ["reseller__name", "reseller__uin", "note"]
    fields = ["reseller", "amount", "note"]
    autocomplete_fields = ["reseller"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        # Grants go through the service so that the pool's total and remaining move together.
        grant = services.pool_grant(reseller=obj.reseller, amount=obj.amount, actor=request.user, note=obj.note)
        obj.pk = grant.pk


class _ReadOnly:
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AllocationRecord)
class AllocationRecordAdmin(_ReadOnly, LargeTableAdmin):
    list_display = ["created_at", "reseller", "customer", "amount", "credit_after", "available_after",
                    "pool_remaining_after", "operator_name", "source", "remark"]
    # Fixed choices: neither filter reads the table to offer them (date_hierarchy would, for its years).
    list_filter = ["source", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["customer__name"]
    search_help_text = _("A customer's UIN, or part of its name.")
    list_select_related = ["reseller", "customer"]


@admin.register(UsageCharge)
class UsageChargeAdmin(_ReadOnly, LargeTableAdmin):
    """Read-only: charges arrive through the API, the CSV import and the services."""

    list_display = ["incurred_at", "reseller", "customer", "amount", "product", "external_id", "source", "created_at"]
    list_filter = ["source", ("incurred_at", admin.DateFieldListFilter)]
    search_fields = ["customer__name"]
    search_help_text = _("A customer's UIN, or part of its name.")
    list_select_related = ["reseller", "customer"]


@admin.register(Repayment)
class RepaymentAdmin(_ReadOnly, LargeTableAdmin):
    """Read-only: repayments are confirmed by the reseller in the console (credits.services)."""

    list_display = ["created_at", "reseller", "customer", "amount", "used_after", "available_after",
                    "confirmed_by_name", "remark"]
    list_filter = [("created_at", admin.DateFieldListFilter)]
    search_fields = ["customer__name"]
    search_help_text = _("A customer's UIN, or part of its name.")
    list_select_related = ["reseller", "customer"]
