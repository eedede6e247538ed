from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from console.admin_lists import LargeTableAdmin
from core.rules import THRESHOLDS

from . import services
from .models import Alert, Delivery, Message


class DeliveryInline(admin.TabularInline):
    model = Delivery
    extra = 0
    can_delete = False
    fields = ["channel", "recipient_kind", "address", "status", "attempts", "last_error", "sent_at"]
    readonly_fields = fields


class ThresholdFilter(admin.SimpleListFilter):
    """The default thresholds as fixed choices: Django's filter for a field without choices reads
    every distinct value of the column first, a scan of the whole table."""

    title = _("threshold")
    parameter_name = "threshold"

    def lookups(self, request, model_admin):
        return [(str(t), f"{t} %") for t in THRESHOLDS]

    def queryset(self, request, queryset):
        if self.value() in {str(t) for t in THRESHOLDS}:
            return queryset.filter(threshold=int(self.value()))
        return queryset


@admin.register(Alert)
class AlertAdmin(LargeTableAdmin):
    list_display = ["customer", "reseller", "kind", "threshold", "day", "covered", "reminder", "rearmed_at", "created_at"]
    list_filter = ["kind", ThresholdFilter, "covered", "reminder"]
    search_fields = ["customer__name"]
    search_help_text = _("A customer's UIN, or part of its name.")
    list_select_related = ["customer", "reseller"]
    readonly_fields = [f.name for f in Alert._meta.fields]
    inlines = [DeliveryInline]

    def has_add_permission(self, request):
        return False


@admin.register(Delivery)
class DeliveryAdmin(LargeTableAdmin):
    list_display = ["id", "alert", "channel", "recipient_kind", "address", "status", "attempts", "last_error", "created_at", "sent_at"]
    list_filter = ["status", "channel", "recipient_kind"]
    # No index leads with the address: the customer's UIN finds its alerts' deliveries.
    search_fields = ["alert__customer__name"]
    search_help_text = _("A customer's UIN, or part of its name.")
    customer_uin_lookup = "alert__customer__uin"
    list_select_related = ["alert"]
    readonly_fields = [f.name for f in Delivery._meta.fields]
    actions = ["retry_failed"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Retry the selected failed deliveries")
    def retry_failed(self, request, queryset):
        retried = sum(services.delivery_retry(delivery=d) for d in queryset.filter(status=Delivery.Status.FAILED))
        skipped = queryset.count() - retried
        self.message_user(request, f"{retried} delivery(ies) queued again.", messages.SUCCESS)
        if skipped:
            self.message_user(request, f"{skipped} not failed, left as they are.", messages.WARNING)


@admin.register(Message)
class MessageAdmin(LargeTableAdmin):
    list_display = ["title", "reseller", "member", "for_customer", "created_at", "read_at"]
    list_filter = ["for_customer"]
    search_fields = ["customer__name"]
    search_help_text = _("A customer's UIN, or part of its name.")
    list_select_related = ["reseller", "member__user", "member__reseller"]
    readonly_fields = [f.name for f in Message._meta.fields]

    def has_add_permission(self, request):
        return False
