"""How console pages answer htmx: the fragment a request targets or the whole page, modals, and
the events a successful modal form sends."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django_htmx.http import trigger_client_event

from core.errors import DomainError


def htmx_target(request) -> str | None:
    """The id of the element an htmx request will fill; None for a full page (plain request, or
    htmx restoring history after a cache miss, which needs the whole page)."""
    if not request.htmx or request.htmx.history_restore_request:
        return None
    return request.htmx.target


def render_fragment(request, template: str, context: dict, *, fragments: tuple[str, ...], status: int = 200):
    """Render the named partial the htmx request targets (fragments are named after the DOM id they
    replace) or the whole page. The response varies on those headers, so no cache mixes them up."""
    target = htmx_target(request)
    name = f"{template}#{target}" if target in fragments else template
    response = render(request, name, context, status=status)
    patch_vary_headers(response, ("HX-Request", "HX-Target", "HX-History-Restore-Request"))
    return response


def render_modal(request, template: str, context: dict, *, status: int = 200):
    """The modal convention (see templates/console/modal.html): an htmx request gets the template's
    `modal` partial (a <dialog>, put into #modal); a plain request gets the whole page."""
    return render_fragment(request, template, context, fragments=("modal",), status=status)


def modal_done(request, *, message: str, redirect_to: str, events: dict | None = None):
    """Success of a modal form: 204 with HX-Trigger events for htmx (close the modal, show the
    message, plus `events`), else a redirect carrying the message."""
    if not request.htmx:
        messages.success(request, message)
        return redirect(redirect_to)
    response = HttpResponse(status=204)
    for name, params in (events or {}).items():
        trigger_client_event(response, name, params)
    trigger_client_event(response, "closeModal")
    trigger_client_event(response, "showMessage", {"text": message, "level": "success"})
    return response


def customer_form_modal(
    request, *, customer, form_class, initial: dict, save, message, template: str, redirect_to: str,
    context: dict | None = None,
):
    """A small form about one customer in a modal (remark, custom warning, alert channels): GET shows
    it; a valid POST calls `save(cleaned_data)` (a service) and closes the modal with `message` (text,
    or a function of cleaned_data) and refreshes the customer's row; a domain error shows in the form
    and changes nothing."""
    if request.method == "POST":
        form = form_class(request.POST)
        if form.is_valid():
            try:
                save(form.cleaned_data)
            except DomainError as error:
                error.add_to(form)
            else:
                text = message(form.cleaned_data) if callable(message) else message
                return modal_done(request, message=text, redirect_to=redirect_to,
                                  events={"customerUpdated": {"uin": customer.uin}})
    else:
        form = form_class(initial=initial)
    return render_modal(request, template, {"nav": "customers", "customer": customer, "form": form, **(context or {})})
