"""Every console URL as its owner (works), another reseller (404), a viewer (403 where it writes),
anonymous (sign-in redirect) and a user of no reseller (an explanation, not an error)."""

import pytest
from django.test import Client

from console.access import membership_of
from credits.models import AllocationRecord, PoolApplication
from customers.models import Customer
from tests.factories import UserFactory
from tests.pages import HTMX, body

pytestmark = pytest.mark.django_db

# (url template, extra headers) of every GET page; {uin} is a customer of the signed-in reseller.
READ_URLS = [
    ("/", {}),
    ("/customers/", {}),
    ("/customers/export.csv", {}),
    ("/customers/{uin}/row/", HTMX),
    ("/records/", {}),
    ("/records/export.csv", {}),
    ("/customers/{uin}/records/", {}),
    ("/customers/{uin}/records/export.csv", {}),
    ("/pool/figures/", {}),
    ("/account/password/", {}),
]
CUSTOMER_URLS = [
    "/customers/{uin}/row/",
    "/customers/{uin}/allocate/",
    "/customers/{uin}/remark/",
    "/customers/{uin}/repayment/",
    "/customers/{uin}/records/",
    "/customers/{uin}/records/export.csv",
]
WRITE_GETS = ["/customers/{uin}/allocate/", "/customers/{uin}/remark/", "/customers/{uin}/repayment/"]


@pytest.mark.parametrize(("url", "headers"), READ_URLS)
def test_owner_and_viewer_read_every_page(owner_client, viewer_client, customer, url, headers):
    for client in (owner_client, viewer_client):
        response = client.get(url.format(uin=customer.uin), **headers)
        assert response.status_code == 200, url


@pytest.mark.parametrize("url", [*WRITE_GETS])
def test_owner_opens_the_write_forms(owner_client, customer, url):
    assert owner_client.get(url.format(uin=customer.uin)).status_code == 200


@pytest.mark.parametrize(("url", "headers"), [*READ_URLS, ("/customers/{uin}/allocate/", {}), ("/customers/{uin}/remark/", {})])
def test_anonymous_is_sent_to_sign_in(customer, url, headers):
    response = Client().get(url.format(uin=customer.uin), **headers)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


@pytest.mark.parametrize("url", CUSTOMER_URLS)
def test_another_resellers_customer_is_not_found(owner_client, other_customer, url):
    response = owner_client.get(url.format(uin=other_customer.uin), **HTMX)
    assert response.status_code == 404


@pytest.mark.parametrize("url", ["/customers/{uin}/allocate/", "/customers/{uin}/remark/"])
def test_another_resellers_customer_refuses_posts_too(owner_client, other_customer, url):
    before = (AllocationRecord.objects.count(), Customer.objects.get(pk=other_customer.pk).remark)
    response = owner_client.post(url.format(uin=other_customer.uin),
                                 {"amount": "10", "remark": "mine now", "idempotency_key": "k1"}, **HTMX)
    assert response.status_code == 404
    assert (AllocationRecord.objects.count(), Customer.objects.get(pk=other_customer.pk).remark) == before


def test_another_resellers_records_never_show(owner_client, other_customer):
    """The all-records page, its export and a UIN filter for someone else's customer show nothing of it."""
    assert other_customer.name not in body(owner_client.get("/records/"))
    assert other_customer.name not in body(owner_client.get("/records/export.csv"))
    assert other_customer.name not in body(owner_client.get(f"/records/?uin={other_customer.uin}"))
    assert str(other_customer.uin) not in body(owner_client.get(f"/customers/export.csv?q={other_customer.uin}"))
    assert other_customer.name not in body(owner_client.get(f"/customers/?q={other_customer.uin}"))


@pytest.mark.parametrize("url", WRITE_GETS)
def test_viewer_cannot_open_write_forms(viewer_client, customer, url):
    assert viewer_client.get(url.format(uin=customer.uin), **HTMX).status_code == 403


def test_viewer_forged_posts_are_refused_and_change_nothing(viewer_client, customer):
    before = (AllocationRecord.objects.count(), PoolApplication.objects.count(), customer.remark)
    responses = [
        viewer_client.post(f"/customers/{customer.uin}/allocate/", {"amount": "10", "idempotency_key": "forged"}, **HTMX),
        viewer_client.post(f"/customers/{customer.uin}/remark/", {"remark": "forged"}, **HTMX),
        viewer_client.post("/pool/applications/", {"amount": "100", "reason": "forged"}, **HTMX),
    ]
    assert [r.status_code for r in responses] == [403, 403, 403]
    customer.refresh_from_db()
    assert (AllocationRecord.objects.count(), PoolApplication.objects.count(), customer.remark) == before


def test_user_without_reseller_gets_an_explanation(stranger_client):
    for url in ("/", "/customers/", "/records/"):
        response = stranger_client.get(url)
        assert response.status_code == 200
        assert "not a member of any reseller" in body(response)
    assert stranger_client.post("/pool/applications/", {"amount": "1", "reason": "x"}).status_code == 403


def test_posts_need_a_csrf_token(operator, customer):
    client = Client(enforce_csrf_checks=True)
    client.force_login(operator.user)
    for url, data in [
        (f"/customers/{customer.uin}/allocate/", {"amount": "10", "idempotency_key": "csrf"}),
        (f"/customers/{customer.uin}/remark/", {"remark": "x"}),
        ("/pool/applications/", {"amount": "10", "reason": "x"}),
    ]:
        assert client.post(url, data).status_code == 403
    assert AllocationRecord.objects.count() == 0 and PoolApplication.objects.count() == 0


def test_read_only_urls_refuse_posts(owner_client, customer):
    for url in ("/customers/", "/records/", "/customers/export.csv", f"/customers/{customer.uin}/records/",
                "/pool/figures/"):
        assert owner_client.post(url).status_code == 405


HTML_PAGES = [
    ("/", {}), ("/customers/", {}), ("/customers/{uin}/row/", HTMX), ("/customers/{uin}/allocate/", HTMX),
    ("/customers/{uin}/allocate/", {}), ("/customers/{uin}/remark/", HTMX), ("/customers/{uin}/warning/", HTMX),
    ("/customers/{uin}/channels/", HTMX), ("/customers/{uin}/repayment/", HTMX),
    ("/customers/{uin}/alerts/", {}), ("/records/", {}), ("/customers/{uin}/records/", {}), ("/messages/", {}),
    ("/settings/", {}), ("/api-keys/", {}), ("/api-keys/docs/", {}), ("/account/password/", {}),
    ("/pool/figures/", {}), ("/pool/figures/", {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "pool-figures"}),
]


TEMPLATE_TOKENS = ("{#", "#}", "{%", "%}", "{{ ", " }}")


@pytest.mark.parametrize(("url", "headers"), HTML_PAGES)
def test_no_template_syntax_reaches_the_page(owner_client, customer, url, headers):
    # Django's {# #} comments are one line only: a wrapped one is printed to the user as text.
    response = owner_client.get(url.format(uin=customer.uin), **headers)
    assert response.status_code == 200, url
    text = response.content.decode()
    for token in TEMPLATE_TOKENS:  # JSON examples on the API page may hold "}}", never these
        assert token not in text, f"{url} shows template syntax {token!r}"


def test_no_template_syntax_on_the_sign_in_page():
    text = Client().get("/login/").content.decode()
    assert not any(token in text for token in TEMPLATE_TOKENS)


def test_membership_of_is_the_users_member_with_its_reseller_in_one_query(operator, django_assert_num_queries):
    user = type(operator.user).objects.get(pk=operator.user.pk)  # nothing of it read yet
    with django_assert_num_queries(1):
        member = membership_of(user)
        assert (member, member.reseller.name, member.role) == (operator, "Owner Reseller", "operator")


def test_the_sign_in_backend_reads_the_membership_with_the_user(operator, django_assert_num_queries):
    from partnercenter.auth import MemberBackend

    with django_assert_num_queries(1):
        user = MemberBackend().get_user(operator.user.pk)
        member = membership_of(user)
        assert (user, member, member.reseller.name) == (operator.user, operator, "Owner Reseller")
    outsider = UserFactory()
    with django_assert_num_queries(1):
        assert membership_of(MemberBackend().get_user(outsider.pk)) is None


def test_a_user_of_no_reseller_has_no_membership():
    assert membership_of(UserFactory()) is None
