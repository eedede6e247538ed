from html.parser import HTMLParser

import pytest
from django.test import Client

from credits.services import credit_allocate
from tests.factories import CustomerFactory
from tests.pages import body, htmx

pytestmark = pytest.mark.django_db
XSS = "<script>alert(1)</script>"


@pytest.fixture
def evil_customer(reseller, operator):
    customer = CustomerFactory(reseller=reseller, name=XSS, remark='"><img src=x onerror=alert(2)>', email="x@ex.example")
    credit_allocate(reseller=reseller, customer=customer, amount="10.00", remark=XSS, actor=operator.user)
    # Spending puts its name into the Overview's top spenders (a chart's JSON data island too) and
    # its product into the customer page's chart.
    from django.utils import timezone

    from credits.services import usage_charge_check, usage_charges_ingest

    usage_charges_ingest(reseller=reseller, rows=[usage_charge_check(
        customer_uin=customer.uin, amount="1.00", incurred_at=timezone.now(), external_id="evil", product=XSS[:100])])
    return customer


def pages(customer):
    return ["/", "/customers/", f"/customers/{customer.uin}/", f"/customers/{customer.uin}/records/", "/records/",
            f"/customers/{customer.uin}/allocate/", f"/customers/{customer.uin}/remark/", "/login/"]


def test_user_text_is_escaped_everywhere(owner_client, evil_customer):
    for url in pages(evil_customer):
        html = body(owner_client.get(url))
        assert XSS not in html and "<img src=x" not in html, url
    html = body(owner_client.get("/customers/"))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    fragment = body(owner_client.get(f"/customers/{evil_customer.uin}/allocate/", **htmx("modal")))
    assert XSS not in fragment and "&lt;script&gt;" in fragment


def test_every_response_has_a_strict_csp(owner_client, evil_customer):
    for url in [*pages(evil_customer), "/customers/export.csv"]:
        policy = owner_client.get(url)["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "unsafe-eval" not in policy
        assert "style-src 'self'" in policy


class Inline(HTMLParser):
    """Collects what a CSP of script-src 'self' / style-src 'self' would block."""

    def __init__(self):
        super().__init__()
        self.problems, self.in_script, self.in_data = [], False, False

    def handle_starttag(self, tag, attrs):
        names = {name for name, _ in attrs}
        if "style" in names or any(name.startswith("on") for name in names):
            self.problems.append((tag, attrs))
        if tag == "script":
            src = dict(attrs).get("src") or ""
            # A JSON data island (json_script) is data the browser never runs: the CSP allows it.
            if dict(attrs).get("type") == "application/json" and not src:
                self.in_data = True
                return
            if not src.startswith("/static/"):
                self.problems.append((tag, attrs))
            self.in_script = True
        if tag == "style":
            self.problems.append((tag, attrs))

    def handle_endtag(self, tag):
        self.in_script = self.in_script and tag != "script"
        self.in_data = self.in_data and tag != "script"

    def handle_data(self, data):
        if self.in_script and data.strip():
            self.problems.append(("script", data))


def test_pages_have_no_inline_script_style_or_handlers(owner_client, evil_customer):
    for url in pages(evil_customer):
        html = body(owner_client.get(url, follow=True))
        parser = Inline()
        parser.feed(html)
        assert parser.problems == [], url
        assert "<title>" in html


def test_anonymous_csp_on_the_sign_in_page():
    assert "script-src 'self'" in Client().get("/login/")["Content-Security-Policy"]
