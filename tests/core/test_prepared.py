"""core.prepared.PreparedQuery: the objects it gives are the ORM's, select_related caches included,
compiled once per connection; and the sign-in backend that reads every request's user through it."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connections

from core.prepared import PreparedQuery
from customers.models import Customer, CustomerLogin
from partnercenter.auth import MemberBackend, _user_with_membership
from tests.factories import CustomerFactory, MemberFactory, UserFactory

pytestmark = pytest.mark.django_db


def _state(obj, depth=0):
    """Every concrete field's value and, recursively, every cached related object (or None)."""
    if obj is None:
        return None
    values = {field.attname: getattr(obj, field.attname) for field in obj._meta.concrete_fields}
    related = {name: (_state(cached, depth + 1) if depth < 4 else type(cached)) for name, cached in obj._state.fields_cache.items()}
    return (type(obj), obj._state.db, obj._state.adding, values, related)


def _users():
    member = MemberFactory()
    customer = CustomerFactory()
    with_customer = CustomerLogin.objects.create(user=UserFactory(), customer=customer).user
    pending = CustomerLogin.objects.create(user=UserFactory()).user
    inactive = UserFactory(is_active=False)
    return [member.user, with_customer, pending, UserFactory(), inactive]


def test_the_objects_are_the_orms_with_their_related_caches():
    users = _users()
    prepared = PreparedQuery(_user_with_membership, pk=-1)
    for user in users:
        (orm,) = list(_user_with_membership(user.pk))
        (mine,) = prepared.all(pk=user.pk)
        assert _state(mine) == _state(orm)
    # The reverse caches too: the member's user is the user read, not another query.
    member_user = prepared.all(pk=users[0].pk)[0]
    assert member_user.member.user is member_user
    assert prepared.all(pk=max(user.pk for user in users) + 1000) == []


def test_it_compiles_once_per_connection_and_sends_one_query(django_assert_num_queries):
    user = MemberFactory().user
    prepared = PreparedQuery(_user_with_membership, pk=-1)
    compiled = []
    original = prepared._prepare
    prepared._prepare = lambda *args: compiled.append(1) or original(*args)
    for _ in range(3):
        with django_assert_num_queries(1):
            assert prepared.all(pk=user.pk)[0].member.reseller.pk == user.member.reseller.pk
    assert compiled == [1]
    assert connections["default"].__dict__["prepared_queries"][prepared].sql == _user_with_membership(-1).query.sql_with_params()[0]


def test_a_sample_value_must_be_a_parameter_exactly_once():
    with pytest.raises(ValueError):
        PreparedQuery(lambda pk: Customer.objects.filter(pk=pk) | Customer.objects.filter(reseller_id=pk), pk=-1).all(pk=1)
    with pytest.raises(ValueError):
        PreparedQuery(lambda pk: Customer.objects.filter(pk=1), pk=-1).all(pk=1)
    with pytest.raises(ValueError):
        PreparedQuery(lambda pk: Customer.objects.filter(pk=pk).prefetch_related("events"), pk=-1).all(pk=1)


def test_the_sign_in_backend_gives_the_users_the_orm_would():
    users = _users()
    backend = MemberBackend()
    for user in users:
        mine = backend.get_user(user.pk)
        if not user.is_active:
            assert mine is None  # ModelBackend's rule: an inactive user is signed out
            continue
        (orm,) = list(_user_with_membership(user.pk))
        assert _state(mine) == _state(orm)
    assert backend.get_user(max(user.pk for user in users) + 1000) is None
    assert backend.get_user("not a number") is None
    assert get_user_model()._default_manager.filter(pk__in=[user.pk for user in users]).count() == len(users)


def test_a_prepared_value_is_the_orms_and_is_captured_once(django_assert_num_queries):
    from core.prepared import PreparedValue

    def customers_of(*, reseller_id, using="default"):
        return Customer.objects.using(using).filter(reseller_id=reseller_id)[:3].count()

    prepared = PreparedValue(customers_of, reseller_id=-1)
    member = MemberFactory()
    counts = []
    for expected in range(5):
        with django_assert_num_queries(1 if counts else 2):  # the first call also runs the sample read
            counts.append(prepared.get(reseller_id=member.reseller_id))
        assert counts[-1] == customers_of(reseller_id=member.reseller_id) == min(expected, 3)
        CustomerFactory(reseller=member.reseller)
    with pytest.raises(ValueError):  # two statements
        PreparedValue(lambda *, pk, using: list(Customer.objects.filter(pk=pk)) + list(Customer.objects.filter(pk=pk)), pk=-1).get(pk=1)


def test_customer_get_gives_the_orms_customer_with_its_balance_or_404():
    from django.http import Http404

    from customers.selectors import customer_get

    mine, theirs = CustomerFactory(), CustomerFactory()
    orm = Customer.objects.select_related("balance").get(reseller=mine.reseller, uin=mine.uin)
    got = customer_get(reseller=mine.reseller, uin=mine.uin)
    assert _state(got) == _state(orm) and "balance" in got._state.fields_cache
    for uin in (theirs.uin, mine.uin + 10**6, 2**63, -(2**63) - 1, 0):
        with pytest.raises(Http404):
            customer_get(reseller=mine.reseller, uin=uin)
