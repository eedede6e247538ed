"""How console pages answer htmx: the fragment a request targets or the whole page, modals, and
the events a successful modal form sends.

The modal convention (every dialog of the console follows it):
- A link opens it: href is the dialog's URL, plus hx-get="<same URL>" hx-target="#modal" (the empty
  container at the end of templates/console/layout.html).
- The URL renders a page template whose dialog is the partial named `modal`: one
  <dialog class="modal" aria-labelledby="modal-title"> with console/_modal_header.html inside.
  render_modal() returns just that partial to htmx, and the whole page otherwise (without
  JavaScript the dialog shows open, inline in the page).
- static/js/console.js opens it with showModal(), focuses the first invalid field (else the first
  field), keeps Tab inside, and closes it on Escape, on [data-close-modal], or on `closeModal`.
- A form inside posts with hx-post="<URL>" hx-target="#modal": invalid, 200 with the re-rendered
  `modal` partial; success, 204 from modal_done() (HX-Trigger closeModal and showMessage, plus the
  view's own events, such as `creditAllocated` {"uin": ...}). What listens to those events says so
  itself, declaratively (the pool figures: hx-trigger="creditAllocated from:body"; a customer's
  row: its own event, see customers.modals.customer_updated).
"""

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
    """The modal convention (see the top of this module): an htmx request gets the template's
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


def form_modal(
    request, *, form_class, initial: dict, save, message, template: str, redirect_to: str,
    events: dict | None = None, context: dict | None = None,
):
    """A small form in a modal: GET shows it; a valid POST calls `save(cleaned_data)` (a service)
    and closes the modal with `message` (text, or a function of cleaned_data) and `events`; a domain
    error shows in the form and changes nothing. `context` is the template's, besides `form`."""
    if request.method == "POST":
        form = form_class(request.POST)
        if form.is_valid():
            try:
                save(form.cleaned_data)
            except DomainError as error:
                error.add_to(form)
            else:
                text = message(form.cleaned_data) if callable(message) else message
                return modal_done(request, message=text, redirect_to=redirect_to, events=events)
    else:
        form = form_class(initial=initial)
    return render_modal(request, template, {**(context or {}), "form": form})
