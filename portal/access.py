"""Who may see a portal page: a signed-in customer login (customers.CustomerLogin) whose application
was approved, scoped to its own customer. A reseller member, or any user without a customer login,
gets 404: the portal has nothing of theirs (and a member never acts as a customer here)."""

from functools import wraps
from urllib.parse import quote

from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone

from customers.models import CustomerLogin


def customer_login_of(user) -> CustomerLogin | None:
    """The user's customer login with its customer and reseller; None for any other user. No query
    when the sign-in backend (partnercenter.auth.MemberBackend) read it with the user."""
    if not user.is_authenticated:
        return None
    try:
        return user.customer_login
    except CustomerLogin.DoesNotExist:
        return None


def customer_required(view=None, *, bound: bool = True):
    """Sign-in (the portal's own) required; request.customer_login, and request.customer for a bound
    one. `bound=False`: also a login whose application is still pending or was rejected (the home
    page tells it so); otherwise such a login is sent to the home page."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect(f"{reverse('portal:login')}?next={quote(request.get_full_path())}")
            login = customer_login_of(request.user)
            if login is None:
                raise Http404("Not a customer login.")
            request.customer_login, request.customer = login, login.customer
            if login.customer is None:
                if bound:
                    return redirect("portal:home")
                return view(request, *args, **kwargs)
            timezone.activate(login.customer.reseller.zone)
            try:
                return view(request, *args, **kwargs)
            finally:
                timezone.deactivate()

        return wrapped

    return decorator(view) if view is not None else decorator
