from django.contrib import admin, messages

from . import services
from .models import Alert, Delivery, Message


class DeliveryInline(admin.TabularInline):
    model = Delivery
    extra = 0
    can_delete = False
    fields = ["channel", "recipient_kind", "address", "status", "attempts", "last_error", "sent_at"]
    readonly_fields = fields


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ["customer", "reseller", "kind", "threshold", "day", "covered", "reminder", "rearmed_at", "created_at"]
    list_filter = ["kind", "threshold", "covered", "reminder"]
    search_fields = ["=customer__uin", "customer__name", "reseller__name"]
    list_select_related = ["customer", "reseller"]
    readonly_fields = [f.name for f in Alert._meta.fields]
    inlines = [DeliveryInline]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["id", "alert", "channel", "recipient_kind", "address", "status", "attempts", "last_error", "created_at", "sent_at"]
    list_filter = ["status", "channel", "recipient_kind"]
    search_fields = ["address", "=alert__customer__uin"]
    list_select_related = ["alert"]
    readonly_fields = [f.name for f in Delivery._meta.fields]
    actions = ["retry_failed"]
    show_full_result_count = False

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
class MessageAdmin(admin.ModelAdmin):
    list_display = ["title", "reseller", "member", "for_customer", "created_at", "read_at"]
    list_filter = ["for_customer"]
    search_fields = ["title", "=customer__uin"]
    readonly_fields = [f.name for f in Message._meta.fields]

    def has_add_permission(self, request):
        return False
