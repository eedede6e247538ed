from django.contrib import admin

from .models import Application, Customer, Invitation, Member
from .services import customer_create


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    list_display = ["user", "reseller", "role"]
    list_filter = ["role", "reseller"]
    search_fields = ["user__username", "reseller__name"]
    autocomplete_fields = ["user", "reseller"]


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["uin", "name", "reseller", "email", "balance_credit", "balance_used", "balance_available",
                    "account_status_label", "non_stop", "bound_at"]
    list_filter = ["balance__status", "non_stop", "identity_type", "balance__usage_band"]
    search_fields = ["=uin", "name", "email"]
    list_select_related = ["reseller", "balance"]
    show_full_result_count = False
    # Credit and usage change only through the services, so that the ledger stays conserved.
    readonly_fields = ["credit", "used", "available", "usage_band", "account_status_label"]
    autocomplete_fields = ["reseller"]

    # A new customer is bound through customer_create, so only what it takes is asked for; credit
    # and usage start at 0 and change through the services afterwards.
    add_fields = ["reseller", "uin", "name", "email", "phone", "remark", "identity_type", "bound_at"]

    @admin.display(description="account status", ordering="balance__status")
    def account_status_label(self, obj):
        return obj.get_account_status_display()

    @admin.display(description="credit", ordering="balance__credit")
    def balance_credit(self, obj):
        return obj.credit

    @admin.display(description="used", ordering="balance__used")
    def balance_used(self, obj):
        return obj.used

    @admin.display(description="available", ordering="balance__available")
    def balance_available(self, obj):
        return obj.available

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("balance")

    def get_fields(self, request, obj=None):
        return self.add_fields if obj is None else super().get_fields(request, obj)

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            return [*self.readonly_fields, "reseller", "uin"]
        return []

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        created = customer_create(**{name: form.cleaned_data[name] for name in self.add_fields})
        obj.pk, obj._state.adding, obj._state.db = created.pk, False, created._state.db


class _ReadOnly:
    """Rows written by the services only: the admin shows them, never adds, edits or deletes."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Invitation)
class InvitationAdmin(_ReadOnly, admin.ModelAdmin):
    """Read-only: invitations are sent, resent and revoked by the reseller (console or API)."""

    list_display = ["email", "reseller", "created_at", "expires_at", "used_at", "revoked_at"]
    list_select_related = ["reseller"]
    search_fields = ["email"]
    exclude = ["token_digest"]


@admin.register(Application)
class ApplicationAdmin(_ReadOnly, admin.ModelAdmin):
    """Read-only: the reseller approves or rejects (console or API); approval binds a Customer."""

    list_display = ["uin", "name", "email", "reseller", "status", "applied_at", "decided_at"]
    list_filter = ["status"]
    list_select_related = ["reseller"]
    search_fields = ["=uin", "name", "email"]
