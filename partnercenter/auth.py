"""The sign-in backend: Django's ModelBackend, whose get_user also reads the user's membership and
its reseller (partnercenter sits above customers, so it may know them).

get_user runs on every request with a session. Every console page then needs the membership (which
reseller, which role) and the reseller (its name and time zone): one query instead of two, which
console.access.membership_of finds already read. A customer's login (and its customer and reseller)
comes with it: the console refuses it and the portal scopes to it without another query."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ValidationError

from core.prepared import PreparedQuery


def _user_with_membership(pk):
    return get_user_model()._default_manager.select_related("member__reseller", "customer_login__customer__reseller").filter(pk=pk)


# Five tables joined on every request: compiled once per process (core.prepared), not per request.
_USER_WITH_MEMBERSHIP = PreparedQuery(_user_with_membership, pk=-1)


class MemberBackend(ModelBackend):
    def get_user(self, user_id):
        try:
            pk = get_user_model()._meta.pk.to_python(user_id)
        except ValidationError:
            return None
        users = _USER_WITH_MEMBERSHIP.all(pk=pk)
        if len(users) != 1:
            return None
        user = users[0]
        return user if self.user_can_authenticate(user) else None
