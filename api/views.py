"""The API's console pages: API Keys and the API reference."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from console.access import member_required
from core.errors import DomainError

from . import selectors, services
from .forms import ApiKeyCreateForm


@never_cache
@member_required
def api_keys(request):
    member = request.member
    form = ApiKeyCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            key, secret_key = services.api_key_create(user=request.user, description=form.cleaned_data["description"])
        except DomainError as exc:
            exc.add_to(form)
        else:
            # Shown once, on this response only; never cached (never_cache) and never stored in clear.
            return render(
                request,
                "api/key_created.html",
                {"nav": "api", "key": key, "secret_key": secret_key, "member": member},
            )
    keys = selectors.api_keys_visible_to(request.user)
    return render(
        request,
        "api/keys.html",
        {"nav": "api", "form": form, "keys": keys, "member": member, "is_admin": member.role == "admin"},
    )


def _manage(request, pk: int, change, done: str):
    key = get_object_or_404(selectors.api_keys_visible_to(request.user), pk=pk)
    try:
        change(key)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done.format(secret_id=key.secret_id))
    return redirect("api_keys")


@member_required
@require_POST
def api_key_disable(request, pk: int):
    return _manage(
        request, pk, lambda key: services.api_key_set_enabled(key=key, enabled=False, actor=request.user),
        gettext_lazy("Key {secret_id} is disabled: its requests are now refused."),
    )


@member_required
@require_POST
def api_key_enable(request, pk: int):
    return _manage(
        request, pk, lambda key: services.api_key_set_enabled(key=key, enabled=True, actor=request.user),
        gettext_lazy("Key {secret_id} is enabled again."),
    )


@member_required
@require_POST
def api_key_delete(request, pk: int):
    return _manage(
        request, pk, lambda key: services.api_key_delete(key=key, actor=request.user),
        gettext_lazy("Key {secret_id} is deleted."),
    )


@member_required
def api_docs(request):
    from .docs import reference_html

    return render(request, "api/docs.html", {"nav": "api", "reference": reference_html(request)})
