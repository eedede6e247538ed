from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers

from . import services
from .models import ApiKey


class ApiKeyAddForm(forms.ModelForm):
    user = forms.ModelChoiceField(
        queryset=get_user_model().objects.filter(member__isnull=False).order_by("username"),
        help_text="A reseller member; the key acts as this user (a viewer's key can only read).",
    )

    class Meta:
        model = ApiKey
        fields = ["user", "description"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Create, inspect, disable, enable and delete keys. A new key's SecretKey is shown once, on the
    page that answers the creation; the encrypted value is never displayed."""

    list_display = ["secret_id", "user", "description", "enabled", "created_at", "last_used_at"]
    list_filter = ["enabled"]
    search_fields = ["secret_id", "user__username", "description"]
    fields = ["secret_id", "user", "description", "enabled", "created_at", "last_used_at"]
    readonly_fields = ["secret_id", "user", "created_at", "last_used_at"]
    actions = ["disable_keys", "enable_keys"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ApiKeyAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        return ["user", "description"] if obj is None else self.fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            if "enabled" in form.changed_data:
                services.api_key_set_enabled(key=obj, enabled=obj.enabled, actor=request.user)
            ApiKey.objects.filter(pk=obj.pk).update(description=obj.description)
            return
        key, secret_key = services.api_key_create(user=obj.user, description=obj.description)
        obj.pk, obj.secret_id, obj.secret_key_encrypted, obj.created_at = (
            key.pk, key.secret_id, key.secret_key_encrypted, key.created_at
        )
        obj._state.adding = False
        obj.shown_secret_key = secret_key

    def response_add(self, request, obj, post_url_continue=None):
        response = TemplateResponse(
            request,
            "admin/api/apikey/created.html",
            {**self.admin_site.each_context(request), "opts": self.opts, "key": obj,
             "secret_key": obj.shown_secret_key, "title": "API key created"},
        )
        add_never_cache_headers(response)
        return response

    def delete_model(self, request, obj):
        services.api_key_delete(key=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for key in queryset.select_related("user"):
            services.api_key_delete(key=key, actor=request.user)

    @admin.action(description="Disable selected keys")
    def disable_keys(self, request, queryset):
        for key in queryset.select_related("user"):
            services.api_key_set_enabled(key=key, enabled=False, actor=request.user)
        messages.success(request, f"{queryset.count()} key(s) disabled.")

    @admin.action(description="Enable selected keys")
    def enable_keys(self, request, queryset):
        for key in queryset.select_related("user"):
            services.api_key_set_enabled(key=key, enabled=True, actor=request.user)
        messages.success(request, f"{queryset.count()} key(s) enabled.")
