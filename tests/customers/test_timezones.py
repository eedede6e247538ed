"""A reseller's time zone: only a real zone can be entered, and a bad stored one falls back to the
default with a warning instead of breaking the console, the API or the alert sweep."""

import logging
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.test.html import parse_html
from django.urls import reverse

from core.timezones import reseller_zone, validate_time_zone
from credits.services import credit_allocate, pool_grant
from customers.models import Reseller
from notifications.services import reseller_day
from tests.factories import CustomerFactory, MemberFactory, ResellerFactory
from tests.pages import attribute, client_for, elements

BAD_ZONES = ["Mars/Olympus_Mons", "", "utc+8", "Asia/Shanghai ", "../../etc/passwd", "Asia/Shang\x00hai"]


@pytest.mark.parametrize("name", BAD_ZONES)
def test_a_bad_name_is_refused_by_the_model(name):
    with pytest.raises(ValidationError) as info:
        validate_time_zone(name)
    assert "is not a time zone" in str(info.value)
    reseller = Reseller(name="Acme", uin=500000000001, time_zone=name)
    with pytest.raises(ValidationError) as info:
        reseller.clean_fields()
    assert "time_zone" in info.value.message_dict


@pytest.mark.parametrize("name", BAD_ZONES)
def test_a_bad_name_falls_back_to_the_default_with_a_warning(name, settings, caplog):
    settings.DEFAULT_RESELLER_TIME_ZONE = "Asia/Tokyo"
    with caplog.at_level(logging.WARNING, logger="core.timezones"):
        assert reseller_zone(name) == ZoneInfo("Asia/Tokyo")
    assert "is not a time zone; using Asia/Tokyo" in caplog.text
    # The alert day follows the same fallback: 23:30 UTC is already the next day in Tokyo.
    assert str(reseller_day(name, datetime(2026, 5, 1, 23, 30, tzinfo=UTC))) == "2026-05-02"


def test_a_good_name_is_used_without_a_warning(caplog):
    assert reseller_zone("Europe/Berlin") == ZoneInfo("Europe/Berlin")
    validate_time_zone("UTC")
    assert not caplog.records


@pytest.fixture
def admin_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("platform", "ops@example.com", "platform-password"))
    return client


def _reseller_form(**changes) -> dict:
    return {
        "name": "Zoned Reseller", "uin": "500000009999", "contact_email": "", "contact_phone": "",
        "time_zone": "Europe/Berlin", "customer_alerts_enabled": "on",
        "created_at_0": "2026-01-01", "created_at_1": "00:00:00",
        "members-TOTAL_FORMS": "0", "members-INITIAL_FORMS": "0", **changes,
    }


@pytest.mark.django_db
def test_the_admin_offers_a_list_and_refuses_a_bad_zone(admin_client):
    url = reverse("admin:customers_reseller_add")
    [select] = [s for s in elements(parse_html(admin_client.get(url).content.decode()), "select")
                if attribute(s, "name") == "time_zone"]
    assert [attribute(o, "value") for o in elements(select, "option") if "selected" in dict(o.attributes)] == ["Asia/Shanghai"]

    response = admin_client.post(url, _reseller_form(time_zone="Mars/Olympus_Mons"))

    assert response.status_code == 200
    assert "Select a valid choice. Mars/Olympus_Mons is not one of the available choices." in response.content.decode()
    assert not Reseller.objects.exists()
    response = admin_client.post(url, _reseller_form())
    assert response.status_code == 302
    assert Reseller.objects.get().time_zone == "Europe/Berlin"


@pytest.mark.django_db
def test_the_admin_asks_for_a_real_zone_in_place_of_a_stored_bad_one(admin_client):
    reseller = ResellerFactory()
    Reseller.objects.filter(pk=reseller.pk).update(time_zone="Mars/Olympus_Mons")
    url = reverse("admin:customers_reseller_change", args=[reseller.pk])
    page = admin_client.get(url).content.decode()
    select = page.split('<select name="time_zone"', 1)[1].split("</select>", 1)[0]
    assert " selected>" not in select  # so the browser shows the blank option, not a zone picked for it

    form = _reseller_form(name=reseller.name, uin=str(reseller.uin), time_zone="")
    assert "This field is required." in admin_client.post(url, form).content.decode()
    assert Reseller.objects.get(pk=reseller.pk).time_zone == "Mars/Olympus_Mons"


@pytest.mark.django_db
def test_the_console_shows_times_in_the_default_zone_when_the_stored_one_is_bad(settings, caplog):
    settings.DEFAULT_RESELLER_TIME_ZONE = "Asia/Tokyo"
    reseller = ResellerFactory()
    Reseller.objects.filter(pk=reseller.pk).update(time_zone="Mars/Olympus_Mons")
    pool_grant(reseller=reseller, amount="100.00")
    record = credit_allocate(reseller=reseller, customer=CustomerFactory(reseller=reseller), amount="5.00")

    response = client_for(MemberFactory(reseller=reseller).user).get("/records/")

    assert response.status_code == 200
    assert record.created_at.astimezone(ZoneInfo("Asia/Tokyo")).strftime("%Y-%m-%d %H:%M:%S") in response.content.decode()
    assert "'Mars/Olympus_Mons' is not a time zone" in caplog.text
