"""Issue 14 item 14: the reseller picks its time zone in Settings; every time then shows in it and
names it, and the alert day follows it (DESIGN §9). Admins only; a name that is not a zone is
refused beside the field and changes nothing."""

from datetime import UTC, datetime

import pytest

from core.errors import InvalidValue, NotPermitted
from customers.models import Customer, Reseller
from customers.services import reseller_time_zone_update
from notifications.services.evaluation import reseller_day
from tests.factories import CustomerFactory, MemberFactory, UserFactory

pytestmark = pytest.mark.django_db


def login(client, member):
    client.force_login(member.user)
    return client


def test_admin_picks_the_time_zone_and_times_follow_it(client, shop):
    moment = datetime(2026, 11, 30, 20, 30, tzinfo=UTC)
    CustomerFactory(reseller=shop.reseller, name="Zoned Co", bound_at=moment)
    page = login(client, shop.admin).get("/customers/?q=Zoned").content.decode()
    assert "2026-12-01 04:30 UTC+8" in page  # the default, Asia/Shanghai
    settings_page = client.get("/settings/").content.decode()
    assert 'name="time_zone"' in settings_page and 'value="Asia/Shanghai" selected' in settings_page

    response = client.post("/settings/", {"form": "time_zone", "time_zone": "America/New_York"})
    assert response.status_code == 302
    assert Reseller.objects.get(pk=shop.reseller.pk).time_zone == "America/New_York"
    assert "2026-11-30 15:30 UTC-5" in client.get("/customers/?q=Zoned").content.decode()
    # The alert day is the reseller's day: 20:30 UTC is still 30 November in New York.
    assert str(reseller_day("America/New_York", moment)) == "2026-11-30"
    assert str(reseller_day("Asia/Shanghai", moment)) == "2026-12-01"


@pytest.mark.parametrize("value", ["Mars/Olympus", "", "UTC+8", "x" * 300])
def test_a_name_that_is_not_a_zone_is_refused_beside_the_field(client, shop, value):
    response = login(client, shop.admin).post("/settings/", {"form": "time_zone", "time_zone": value})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="field-error"' in html
    assert Reseller.objects.get(pk=shop.reseller.pk).time_zone == "Asia/Shanghai"


@pytest.mark.parametrize("role", ["operator", "viewer"])
def test_only_an_admin_changes_the_time_zone(client, shop, role):
    member = MemberFactory(reseller=shop.reseller, role=role, user=UserFactory(username=f"tz-{role}"))
    assert login(client, member).post("/settings/", {"form": "time_zone", "time_zone": "UTC"}).status_code == 403
    assert Reseller.objects.get(pk=shop.reseller.pk).time_zone == "Asia/Shanghai"
    with pytest.raises(NotPermitted):
        reseller_time_zone_update(member=member, time_zone="UTC")
    assert Reseller.objects.get(pk=shop.reseller.pk).time_zone == "Asia/Shanghai"


def test_the_service_refuses_an_unknown_zone_and_writes_nothing(shop):
    with pytest.raises(InvalidValue) as refused:
        reseller_time_zone_update(member=shop.admin, time_zone="Europe/Atlantis")
    assert refused.value.field == "time_zone" and "Europe/Atlantis" in refused.value.message
    assert Reseller.objects.get(pk=shop.reseller.pk).time_zone == "Asia/Shanghai"
    assert reseller_time_zone_update(member=shop.admin, time_zone="Europe/Berlin").time_zone == "Europe/Berlin"


def test_another_resellers_member_cannot_touch_it(client, shop):
    stranger = MemberFactory(role="admin", user=UserFactory(username="tz-stranger"))
    assert login(client, stranger).post("/settings/", {"form": "time_zone", "time_zone": "UTC"}).status_code == 302
    assert Reseller.objects.get(pk=shop.reseller.pk).time_zone == "Asia/Shanghai"
    assert Reseller.objects.get(pk=stranger.reseller_id).time_zone == "UTC"


def test_anonymous_is_sent_to_sign_in(client, shop):
    response = client.post("/settings/", {"form": "time_zone", "time_zone": "UTC"})
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert Customer.objects.filter(reseller=shop.reseller).exists()


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("data", [None, {"time_zone": "Europe/Berlin"}, {"time_zone": "Mars/Olympus"}, {"time_zone": ""}])
def test_the_kept_time_zone_list_is_the_one_django_writes(data, language):
    """TimeZoneSelect keeps its rendering per zone: the same bytes as Django's Select of the same
    choices, unbound, bound, refused (aria-invalid) and empty, twice (the second from the copy)."""
    from django import forms
    from django.utils import translation

    from core.timezones import time_zone_choices
    from notifications.forms import TimeZoneForm

    class PlainForm(forms.Form):
        time_zone = forms.ChoiceField(label="Time zone", choices=time_zone_choices, help_text="Shown in this zone.")

    with translation.override(language):
        for _ in range(2):
            kept = TimeZoneForm(data, initial={"time_zone": "Asia/Shanghai"})
            plain = PlainForm(data, initial={"time_zone": "Asia/Shanghai"})
            assert kept.is_bound is plain.is_bound and (not data or kept.is_valid() == plain.is_valid())
            assert str(kept["time_zone"]) == str(plain["time_zone"])
        assert str(kept["time_zone"]).count("<option") == len(time_zone_choices())
