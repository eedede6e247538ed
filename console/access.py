"""Who may see a console page: a signed-in member of a reseller, and for a write, a member whose
role may change things. Every console view goes through `member_required`: the signed-in user's
membership decides the reseller every read and write is scoped to, and its role decides whether
the view may write."""

from functools import wraps

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext


def membership_of(user):
    """The user's membership with its reseller; None for a user of no reseller. No query when the
    sign-in backend (partnercenter.auth.MemberBackend) read them with the user, else one.

    The console imports no feature app, so the membership model (customers.Member) is found through
    the user model's reverse one-to-one relation `member`."""
    relation = get_user_model()._meta.get_field("member")
    if relation.is_cached(user):
        member = relation.get_cached_value(user)
        if member is None or "reseller" in member._state.fields_cache:
            return member
    membership = relation.related_model
    return membership._default_manager.select_related("reseller").filter(user=user).first()


def is_customer_login(user) -> bool:
    """Whether the user is a customer's portal login (customers.CustomerLogin, found through the user
    model's reverse relation `customer_login`). Such a user never reaches a console page, whatever
    else it has; no query when the sign-in backend read it with the user."""
    if not user.is_authenticated:
        return False
    relation = get_user_model()._meta.get_field("customer_login")
    if relation.is_cached(user):
        return relation.get_cached_value(user) is not None
    return relation.related_model._default_manager.filter(user=user).exists()


def member_required(view=None, *, write: bool = False):
    """Sign-in required; scope the request to the user's reseller (request.member, request.reseller)
    and show its times in the reseller's time zone. `write=True`: viewers get 403 (every method, so
    a forged POST is refused too). A user of no reseller gets an explanation, not an error page."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(request, *args, **kwargs):
            if is_customer_login(request.user):
                # A customer's session: its own portal, never a reseller page.
                return redirect("portal:home")
            member = membership_of(request.user)
            if member is None:
                status = 200 if request.method in ("GET", "HEAD") else 403
                return render(request, "console/no_reseller.html", status=status)
            # Fill the user's cached membership so the layout does not ask the database again.
            request.user.member = member
            request.member, request.reseller = member, member.reseller
            if write and not member.can_allocate:
                raise PermissionDenied(gettext("Your role can view but not change anything."))
            timezone.activate(member.reseller.zone)
            try:
                return view(request, *args, **kwargs)
            finally:
                timezone.deactivate()

        return wrapped

    return decorator(view) if view is not None else decorator


def not_customer(view):
    """For a page every signed-in console user shares outside member_required (changing one's
    password): a customer's login is sent to its portal instead."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if is_customer_login(request.user):
            return redirect("portal:home")
        return view(request, *args, **kwargs)

    return wrapped
