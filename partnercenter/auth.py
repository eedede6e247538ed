"""The sign-in backend: Django's ModelBackend, whose get_user also reads the user's membership and
its reseller (partnercenter sits above customers, so it may know them).

get_user runs on every request with a session. Every console page then needs the membership (which
reseller, which role) and the reseller (its name and time zone): one query instead of two, which
console.access.membership_of finds already read. A customer's login (and its customer and reseller)
comes with it: the console refuses it and the portal scopes to it without another query."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class MemberBackend(ModelBackend):
    def get_user(self, user_id):
        user_model = get_user_model()
        try:
            user = user_model._default_manager.select_related("member__reseller", "customer_login__customer__reseller").get(pk=user_id)
        except user_model.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
