from django.contrib import admin

from .models import Customer, Member


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
