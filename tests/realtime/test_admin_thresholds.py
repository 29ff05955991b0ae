"""The admin's AlertSettings change form drives the alert thresholds of the next refresh."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from realtime.publish import publish_changes, thresholds_from_settings
from tests.factories import event_snapshot, event_token, mint, moved
from tokens.models import AlertSettings

pytestmark = pytest.mark.django_db

A = mint(1)


@pytest.fixture
def admin_client_logged_in(client, django_user_model):
    user = django_user_model.objects.create_superuser("admin", "admin@example.com", "pw-not-used")
    client.force_login(user)
    return client


def change_url():
    return reverse("admin:tokens_alertsettings_change", args=[AlertSettings.get_solo().pk])


def save(client, price, volume):
    return client.post(
        change_url(),
        {"price_change_threshold_pct": price, "volume_spike_threshold_pct": volume, "_save": "Save"},
    )


def alerts_for_move(pct):
    """Publish a first sighting at 1.0, then a move by pct, with the thresholds the merge would read."""
    a = event_token(A, price=1.0)
    first = event_snapshot([a])
    publish_changes(None, first, thresholds_from_settings())
    events = publish_changes(
        first, event_snapshot([moved(a, price=1.0 + pct / 100)]), thresholds_from_settings()
    )
    from django_redis import get_redis_connection

    get_redis_connection("default").flushdb()  # forget the reference price for the next call
    return [e for e in events if e["type"] == "token.price_change"]


def test_change_form_renders_both_thresholds(admin_client_logged_in):
    page = admin_client_logged_in.get(change_url())
    assert page.status_code == 200
    assert b"price_change_threshold_pct" in page.content and b"volume_spike_threshold_pct" in page.content


def test_raising_and_lowering_the_threshold_changes_what_alerts(admin_client_logged_in):
    assert len(alerts_for_move(10)) == 1 and alerts_for_move(3) == []
    response = save(admin_client_logged_in, "15", "50")
    assert response.status_code == 302
    assert thresholds_from_settings().price_change_pct == 15.0
    assert alerts_for_move(10) == []
    save(admin_client_logged_in, "2", "50")
    assert thresholds_from_settings().price_change_pct == 2.0
    assert len(alerts_for_move(3)) == 1


@pytest.mark.parametrize(
    ("price", "volume"), [("-1", "50"), ("0", "50"), ("5", "-10"), ("100000", "50"), ("abc", "50")]
)
def test_negative_zero_absurd_or_non_numeric_thresholds_are_refused(admin_client_logged_in, price, volume):
    response = save(admin_client_logged_in, price, volume)
    assert response.status_code == 200  # the form again, with errors
    assert response.context["adminform"].form.errors
    current = AlertSettings.get_solo()
    assert current.price_change_threshold_pct == Decimal(
        "5"
    ) and current.volume_spike_threshold_pct == Decimal("50")
