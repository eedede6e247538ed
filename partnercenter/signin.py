"""The sign-in throttle: django-axes records every failed sign-in in the database (console and
Django admin alike); these rules decide who is locked out, and for how long.

- SIGNIN_FAILURE_LIMIT failures for one username, from any address, lock that username. Spreading
  the guesses over many addresses gains nothing.
- SIGNIN_IP_FAILURE_LIMIT failures from one address, for any usernames, lock that address. It is
  higher, so one locked username does not lock the other users behind the same address.
- A lock lasts SIGNIN_LOCKOUT_MINUTES after the failure that reached the limit; every further
  failure locks again at once, for twice as long, up to SIGNIN_LOCKOUT_MAX_HOURS. Failures are
  forgotten once that long passes without another one, and a username's at its next sign-in.
- An attempt refused during a lock is not counted (see AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT),
  so the right password works as soon as the lock ends.
"""

import ipaddress
import logging
import math
from datetime import datetime, timedelta

from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.conf import settings
from django.db.models import Max, QuerySet, Sum
from django.shortcuts import render
from django.utils import timezone

logger = logging.getLogger(__name__)


def client_ip(request) -> str | None:
    """The address a sign-in is counted against. X-Forwarded-For is read only when
    TRUSTED_PROXY_COUNT says how many of our own proxies appended to it: each appends the address it
    received the request from, so the entry that many places from the right was written by the
    outermost trusted proxy, and everything left of it by the client."""
    remote = request.META.get("REMOTE_ADDR") or None
    hops = settings.TRUSTED_PROXY_COUNT
    if not hops:
        return remote
    forwarded = [entry.strip() for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [entry for entry in forwarded if entry]
    if len(forwarded) < hops:
        # Not through all the proxies (a health check, or a request sent past them).
        return remote
    candidate = forwarded[-hops]
    try:
        # A scoped IPv6 address ("fe80::1%eth0") does not fit the database's inet column.
        if "%" in candidate:
            raise ValueError(candidate)
        ipaddress.ip_address(candidate)
    except ValueError:
        logger.warning("X-Forwarded-For entry %r is not an address; counting %s instead", candidate, remote)
        return remote
    return candidate


def lockout_length(extra_failures: int) -> timedelta:
    """SIGNIN_LOCKOUT_MINUTES, doubled for each failure past the limit, capped."""
    longest = timedelta(hours=settings.SIGNIN_LOCKOUT_MAX_HOURS)
    # 2**40 minutes is far past any cap; a bigger exponent would only overflow timedelta.
    return min(timedelta(minutes=settings.SIGNIN_LOCKOUT_MINUTES) * 2 ** min(extra_failures, 40), longest)


def _locked_until(attempts: QuerySet, limit: int, now: datetime) -> datetime | None:
    remembered = attempts.filter(attempt_time__gt=now - timedelta(hours=settings.SIGNIN_LOCKOUT_MAX_HOURS))
    found = remembered.aggregate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
    failures = found["failures"] or 0
    if failures < limit:
        return None
    until = found["last"] + lockout_length(failures - limit)
    return until if until > now else None


class SignInThrottle(AxesDatabaseHandler):
    """AXES_HANDLER: axes' database handler with the rules of this module."""

    def lockout_ends(self, request, credentials: dict | None = None) -> datetime | None:
        """When the lock on this request's username or address ends; None if neither is locked."""
        now = request.axes_attempt_time
        ends = [_locked_until(AccessAttempt.objects.filter(ip_address=request.axes_ip_address),
                              settings.SIGNIN_IP_FAILURE_LIMIT, now)]
        username = get_client_username(request, credentials)
        if username:
            ends.append(_locked_until(AccessAttempt.objects.filter(username=username), settings.SIGNIN_FAILURE_LIMIT, now))
        return max((end for end in ends if end is not None), default=None)

    def is_locked(self, request, credentials: dict | None = None) -> bool:
        return self.lockout_ends(request, credentials) is not None

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        super().user_login_failed(sender, credentials, request, **kwargs)
        if request is None or request.axes_locked_out:
            return
        if self.is_locked(request, credentials):
            # This failure reached a limit: answer it with the lockout page already.
            request.axes_locked_out = True
            request.axes_credentials = credentials
            user_locked_out.send("axes", request=request, username=get_client_username(request, credentials),
                                 ip_address=request.axes_ip_address)

    def reset_user_attempts(self, request, credentials: dict | None = None) -> int:
        """After a successful sign-in, forget that username's failures only: the address's count
        stays, or signing in to one's own account would wipe out guesses at everyone else's."""
        username = get_client_username(request, credentials)
        if not username:
            return 0
        count, _ = AccessAttempt.objects.filter(username=username).delete()
        return count


def locked_out(request, original_response, credentials: dict | None = None):
    """AXES_LOCKOUT_CALLABLE: a page that says when to try again (429 with Retry-After)."""
    now = timezone.now()
    ends = AxesProxyHandler.get_implementation().lockout_ends(request, credentials)
    seconds = max(1, math.ceil((ends - now).total_seconds())) if ends else settings.SIGNIN_LOCKOUT_MINUTES * 60
    context = {
        "minutes": math.ceil(seconds / 60),
        "ends": ends or now + timedelta(seconds=seconds),
        "back": request.path,
    }
    response = render(request, "registration/locked_out.html", context, status=429)
    response["Retry-After"] = str(seconds)
    return response
