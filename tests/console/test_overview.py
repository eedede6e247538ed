import pytest

from credits.models import PoolApplication
from credits.services import credit_allocate
from tests.pages import body, htmx, set_used

pytestmark = pytest.mark.django_db


def test_overview_figures(owner_client, reseller, customer, other_customer):
    credit_allocate(reseller=reseller, customer=customer, amount="400.00", remark="Spring")
    set_used(customer, "380.00")
    PoolApplication.objects.create(reseller=reseller, amount="2500.00", reason="Black Friday")
    html = body(owner_client.get("/"))
    assert "<title>Overview" in html and 'aria-current="page"' in html
    for text in ("10,000.00", "400.00", "9,600.00", "Harbor Games", "+400.00", "2,500.00", "Black Friday", "Pending"):
        assert text in html, text
    assert other_customer.name not in html
    # One customer, past 75 % and 90 % (95 %), not 100 %.
    assert 'href="/customers/?band=90"><span class="stat-label">Used ≥ 90 %</span><span class="stat-value num band-90">1<' in html
    assert 'band-100">0<' in html


def test_apply_for_customer_credits(owner_client, operator, reseller):
    response = owner_client.post("/pool/applications/", {"amount": "1500.00", "reason": "New game launch"},
                                 **htmx("pool-applications"))
    html = body(response)
    assert response.status_code == 200 and html.lstrip().startswith('<section id="pool-applications"')
    assert "submitted" in html and "New game launch" in html
    application = PoolApplication.objects.get()
    assert (str(application.amount), application.status, application.submitted_by) == ("1500.00", "pending", operator.user)


def test_apply_errors_stay_in_the_form(owner_client):
    response = owner_client.post("/pool/applications/", {"amount": "12.345", "reason": ""}, **htmx("pool-applications"))
    html = body(response)
    assert response.status_code == 200 and 'id="id_reason_error"' in html
    assert PoolApplication.objects.count() == 0
    response = owner_client.post("/pool/applications/", {"amount": "12.345", "reason": "why"}, **htmx("pool-applications"))
    assert "at most 2 decimal places" in body(response) and PoolApplication.objects.count() == 0


def test_a_huge_amount_or_a_nul_character_is_a_form_error(owner_client):
    cases = (({"amount": "9" * 30, "reason": "why"}, "amount"), ({"amount": "10", "reason": "a\x00b"}, "reason"))
    for data, field in cases:
        response = owner_client.post("/pool/applications/", data, **htmx("pool-applications"))
        assert response.status_code == 200 and f'id="id_{field}_error"' in body(response)
    assert "must not exceed 9,999,999,999.99" in body(
        owner_client.post("/pool/applications/", {"amount": "9" * 30, "reason": "why"}, **htmx("pool-applications"))
    )
    assert PoolApplication.objects.count() == 0


def test_apply_without_javascript_redirects(owner_client):
    response = owner_client.post("/pool/applications/", {"amount": "10", "reason": "x"}, follow=True)
    assert response.redirect_chain == [("/", 302)] and "submitted" in body(response)


def test_viewer_sees_applications_but_no_form(viewer_client, reseller):
    PoolApplication.objects.create(reseller=reseller, amount="10.00", reason="Seen by all")
    html = body(viewer_client.get("/"))
    assert "Seen by all" in html and 'action="/pool/applications/"' not in html


def test_the_customer_counts_are_kept_half_a_minute(owner_client, reseller, customer):
    """Counting 100,000 customers by band costs more than the rest of the page: the counts are
    cached (credits.selectors.OVERVIEW_COUNTS_SECONDS); the pool's figures are always current."""
    from django.core.cache import cache

    from credits.selectors import customer_counts

    credit_allocate(reseller=reseller, customer=customer, amount="100.00")
    assert 'band-90">0<' in body(owner_client.get("/"))
    set_used(customer, "95.00")
    credit_allocate(reseller=reseller, customer=customer, amount="1.00")
    html = body(owner_client.get("/"))
    assert 'band-90">0<' in html and "101.00" in html  # counts as cached, pool figures current
    cache.clear()
    assert 'band-90">1<' in body(owner_client.get("/"))
    assert customer_counts(reseller)["band_90"] == 1


def test_an_unreachable_cache_only_costs_the_counting(owner_client, reseller, customer, monkeypatch, caplog):
    from credits import selectors

    def down(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(selectors.cache, "get", down)
    monkeypatch.setattr(selectors.cache, "set", down)
    response = owner_client.get("/")
    assert response.status_code == 200 and "customer counts not cached: the cache is unavailable" in caplog.text


def test_overview_charts_equal_their_tables(owner_client, reseller, customer, other_customer):
    """Pool allocated over time, customers by usage band, top spenders (DESIGN §8): the figures in
    each data island are the figures of its table; running out within 7 days lists the customer."""
    import json
    from datetime import timedelta

    from django.utils import timezone

    from credits.services import usage_charge_check, usage_charges_ingest
    from tests.pages import by_id, elements, text

    credit_allocate(reseller=reseller, customer=customer, amount="400.00")
    usage_charges_ingest(reseller=reseller, rows=[usage_charge_check(
        customer_uin=customer.uin, amount="350.00", incurred_at=timezone.now() - timedelta(days=2), external_id="x")])
    html = body(owner_client.get("/"))
    for island, table in (("pool-allocated-data", "pool-allocated-table"), ("usage-bands-data", "usage-bands-table"),
                          ("top-spenders-data", "top-spenders-table")):
        data = json.loads(text(by_id(html, island)))
        rows = [[text(c) for c in row.children if hasattr(c, "name")] for row in elements(by_id(html, table), "tr")][1:]
        assert [r[0] for r in rows] == data["labels"], island
        assert [r[1].replace(",", "") for r in rows] == data["series"][0]["values"], island
    allocated = json.loads(text(by_id(html, "pool-allocated-data")))["series"][0]["values"]
    assert len(allocated) == 90 and allocated[-1] == "400.00"
    bands = json.loads(text(by_id(html, "usage-bands-data")))
    assert bands["series"][0]["values"] == ["0", "1", "0", "0"]  # 87.5 % used: between 75 and 90
    spenders = json.loads(text(by_id(html, "top-spenders-data")))
    assert spenders["labels"] == [f"Harbor Games ({customer.uin})"] and spenders["series"][0]["values"] == ["350.00"]
    running = text(by_id(html, "running-out"))
    assert "Harbor Games" in running and "Allocate Credit" in running and other_customer.name not in html


def test_a_viewer_sees_who_runs_out_without_allocate_credit(viewer_client, reseller, customer):
    from datetime import timedelta

    from django.utils import timezone

    from credits.services import usage_charge_check, usage_charges_ingest
    from tests.pages import by_id, text

    credit_allocate(reseller=reseller, customer=customer, amount="100.00")
    usage_charges_ingest(reseller=reseller, rows=[usage_charge_check(
        customer_uin=customer.uin, amount="95.00", incurred_at=timezone.now() - timedelta(hours=3), external_id="v")])
    running = text(by_id(body(viewer_client.get("/")), "running-out"))
    assert "Harbor Games" in running and "Allocate Credit" not in running


def test_the_allocated_history_shows_todays_allocations_with_the_past_days_cached(owner_client, reseller, customer):
    import json

    from tests.pages import by_id, text

    def allocated():
        return json.loads(text(by_id(body(owner_client.get("/")), "pool-allocated-data")))["series"][0]["values"]

    first = allocated()
    credit_allocate(reseller=reseller, customer=customer, amount="250.00")
    second = allocated()
    assert first[-1] == "0.00" and second[-1] == "250.00" and second[:-1] == first[:-1]


def _history(reseller, today=None):
    from credits.selectors import pool_allocated_history
    from credits.services import reseller_today

    return [str(v) for _, v in pool_allocated_history(reseller=reseller, today=today or reseller_today(reseller))]


def _allocate_at(monkeypatch, when, **kwargs):
    """An allocation recorded at `when` (records are immutable: the time is the service's clock)."""
    from django.utils import timezone

    with monkeypatch.context() as m:
        m.setattr(timezone, "now", lambda: when)
        credit_allocate(**kwargs)


def test_todays_net_is_the_pool_less_the_cached_net_before_today(reseller, customer, monkeypatch,
                                                                 django_assert_num_queries):
    """Today's net is the pool's allocated figure less the net of every record before today (kept in
    the cache with the past days' nets): a record written 200 days ago counts before the chart's first
    day, one written 3 days ago on its own day, and today's allocations show at once with one read,
    the pool's row."""
    from datetime import timedelta

    from django.core.cache import cache
    from django.utils import timezone

    from tests.factories import CustomerFactory

    cache.clear()
    second = CustomerFactory(reseller=reseller)
    _allocate_at(monkeypatch, timezone.now() - timedelta(days=200), reseller=reseller, customer=customer, amount="100.00")
    _allocate_at(monkeypatch, timezone.now() - timedelta(days=3), reseller=reseller, customer=second, amount="30.00")
    history = _history(reseller)  # reads and caches the sums (unless this is the day's first minute)
    assert history[:86] == ["100.00"] * 86 and history[86:] == ["130.00"] * 4
    credit_allocate(reseller=reseller, customer=customer, amount="-20.00")
    credit_allocate(reseller=reseller, customer=second, amount="5.00")
    with django_assert_num_queries(1):
        history = _history(reseller)
    assert history[-1] == "115.00" and history[-2] == "130.00" and history[0] == "100.00"


def test_in_the_days_first_minute_the_sums_are_read_every_time(reseller, customer, monkeypatch):
    """A transaction begun before midnight may still commit in the day's first minute: until it has
    passed, the sums before today are not kept, so such a record lands on its own day."""
    from datetime import datetime, time, timedelta

    from django.core.cache import cache
    from django.utils import timezone

    from credits.services import reseller_today

    cache.clear()
    today = reseller_today(reseller)
    midnight = datetime.combine(today, time.min, reseller.zone)
    monkeypatch.setattr(timezone, "now", lambda: midnight + timedelta(seconds=30))
    assert _history(reseller, today)[-1] == "0.00"
    _allocate_at(monkeypatch, midnight - timedelta(seconds=1), reseller=reseller, customer=customer, amount="40.00")
    history = _history(reseller, today)
    assert history[-1] == "40.00" and history[-2] == "40.00" and history[-3] == "0.00"


def test_the_overviews_prepared_reads_are_the_orms(reseller, customer, other_customer):
    """The Overview's reads compiled once per connection (core.prepared) give the objects the ORM
    gives, in its order: the pool, the latest allocations, the applications, the top burn rates and
    who runs out soon (spread over customers of two resellers, some burning, some not)."""
    from datetime import timedelta

    from django.utils import timezone

    from credits import selectors
    from credits.models import AllocationRecord, CreditPool
    from credits.services import usage_charge_check, usage_charges_ingest
    from customers.models import Customer, CustomerBalance
    from tests.core.test_prepared import _state

    for n, (who, amount, used) in enumerate([(customer, "400.00", "390.00"), (other_customer, "50.00", "10.00")]):
        credit_allocate(reseller=who.reseller, customer=who, amount=amount)
        usage_charges_ingest(reseller=who.reseller, rows=[usage_charge_check(
            customer_uin=who.uin, amount=used, incurred_at=timezone.now() - timedelta(hours=5), external_id=f"p{n}")])
    for n in range(12):
        credit_allocate(reseller=reseller, customer=customer, amount="1.00" if n % 2 else "-1.00")
        PoolApplication.objects.create(reseller=reseller, amount=f"{100 + n}.00", reason=f"reason {n}")
    from credits.services import burn_rates_refresh

    burn_rates_refresh()

    for who in (reseller, other_customer.reseller):
        pool = CreditPool.objects.filter(reseller=who).first()
        assert selectors.pool_figures(reseller=who) == {"total": pool.total, "remaining": pool.remaining, "allocated": pool.allocated}
        orm = list(selectors.allocation_records(reseller=who)[:selectors.LATEST_ALLOCATIONS])
        assert [_state(r) for r in selectors.latest_allocations(reseller=who)] == [_state(r) for r in orm]
        orm = list(PoolApplication.objects.filter(reseller=who).order_by("-submitted_at", "-id")[:10])
        assert [_state(a) for a in selectors.pool_applications(reseller=who)] == [_state(a) for a in orm]
        orm = list(CustomerBalance.objects.filter(reseller=who, burn_rate__gt=0).select_related("customer")
                   .order_by("-burn_rate", "customer_id")[:selectors.TOP_SPENDERS])
        assert [_state(b) for b in selectors._TOP_BURN_RATES.all(reseller_id=who.pk)] == [_state(b) for b in orm]
        orm = list(Customer.objects.filter(reseller=who, balance__reseller=who, balance__days_to_zero__lte=7)
                   .select_related("balance").order_by("balance__days_to_zero", "id")[:10])
        assert [_state(c) for c in selectors.running_out(reseller=who)] == [_state(c) for c in orm]
    assert len(selectors.latest_allocations(reseller=reseller)) == selectors.LATEST_ALLOCATIONS
    assert len(selectors.pool_applications(reseller=reseller)) == 10
    assert [c.pk for c in selectors.running_out(reseller=reseller)] == [customer.pk]
    assert AllocationRecord.objects.filter(reseller=reseller).count() > selectors.LATEST_ALLOCATIONS
