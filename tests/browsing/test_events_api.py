"""POST /api/v1/events/: batches of behaviour events from mobile clients."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from browsing.models import Event
from tests.factories import MemberFactory, ProductFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/events/"


def when(delta=timedelta(0)) -> str:
    return (timezone.now() + delta).isoformat()


def event(client_id, type_="view", **fields):
    return {"client_event_id": client_id, "type": type_, "occurred_at": when(), **fields}


def post(api, events):
    return api.post(URL, {"events": events}, format="json")


@pytest.fixture
def product():
    return ProductFactory()


# --- accepted events -------------------------------------------------------------------


def test_good_events_are_stored_for_the_member(member_api, member, product):
    response = post(
        member_api,
        [
            event("a", "view", product=product.pk),
            event("b", "search", query="  steel   kettle ", result_count=12),
            event("c", "cart_add", product=product.pk, quantity=3),
            event("d", "favorite", product=product.pk),
        ],
    )

    assert response.status_code == 200
    assert response.json() == {"accepted": 4, "duplicates": 0, "rejected": []}
    rows = {e.client_event_id: e for e in Event.objects.filter(user=member)}
    assert rows["a"].event_type == "view" and rows["a"].product == product
    assert rows["b"].query == "steel kettle" and rows["b"].value == Decimal("12")
    assert rows["b"].product is None
    assert rows["c"].quantity == 3
    assert {e.source for e in rows.values()} == {Event.Source.API}


def test_client_time_with_its_offset_is_kept(member_api, member, product):
    sent = (timezone.now() - timedelta(hours=2)).replace(microsecond=0)
    in_shanghai = sent.astimezone(timezone.get_fixed_timezone(8 * 60)).isoformat()

    post(member_api, [{**event("a", product=product.pk), "occurred_at": in_shanghai}])

    assert Event.objects.get(user=member).occurred_at == sent


def test_mixed_batch_keeps_the_good_and_lists_the_bad_with_reasons(member_api, member, product):
    response = post(
        member_api,
        [
            event("ok-1", product=product.pk),
            event("bad-type", "teleport", product=product.pk),
            event("ok-2", "search", query="kettle"),
            {"type": "view", "product": product.pk, "occurred_at": when()},
        ],
    )

    body = response.json()
    assert response.status_code == 200
    assert body["accepted"] == 2
    assert [(r["index"], r["client_event_id"]) for r in body["rejected"]] == [
        (1, "bad-type"),
        (3, None),
    ]
    assert "type" in body["rejected"][0]["errors"]
    assert "client_event_id" in body["rejected"][1]["errors"]
    assert set(Event.objects.filter(user=member).values_list("client_event_id", flat=True)) == {
        "ok-1",
        "ok-2",
    }


@pytest.mark.parametrize("type_", ["purchase", "rating"])
def test_purchase_and_rating_events_are_refused(member_api, product, type_):
    response = post(member_api, [event("x", type_, product=product.pk)])

    rejected = response.json()["rejected"]
    assert response.status_code == 200
    assert rejected[0]["index"] == 0
    assert "not sent by clients" in rejected[0]["errors"]["type"][0]
    assert not Event.objects.exists()


def test_unknown_type_is_refused(member_api, product):
    response = post(member_api, [event("x", "teleport", product=product.pk)])

    assert "type" in response.json()["rejected"][0]["errors"]


def test_unknown_product_is_refused(member_api):
    response = post(member_api, [event("x", product=987654)])

    assert response.json()["rejected"][0]["errors"] == {"product": ["Unknown product."]}
    assert not Event.objects.exists()


def test_view_of_an_inactive_product_is_refused_but_its_unfavorite_kept(member_api):
    withdrawn = ProductFactory(is_active=False)

    response = post(
        member_api,
        [event("v", product=withdrawn.pk), event("u", "unfavorite", product=withdrawn.pk)],
    )

    body = response.json()
    assert body["accepted"] == 1
    assert [r["client_event_id"] for r in body["rejected"]] == ["v"]


def test_future_timestamp_is_refused(member_api, product):
    response = post(
        member_api,
        [{**event("x", product=product.pk), "occurred_at": when(timedelta(minutes=10))}],
    )

    assert response.json()["rejected"][0]["errors"]["occurred_at"] == ["The time is in the future."]


def test_small_clock_skew_is_accepted(member_api, product):
    response = post(
        member_api,
        [{**event("x", product=product.pk), "occurred_at": when(timedelta(minutes=2))}],
    )

    assert response.json()["accepted"] == 1


def test_very_old_timestamp_is_refused(member_api, product):
    response = post(
        member_api,
        [{**event("x", product=product.pk), "occurred_at": when(-timedelta(days=31))}],
    )

    assert "older than 30 days" in response.json()["rejected"][0]["errors"]["occurred_at"][0]


@pytest.mark.parametrize("value", ["yesterday", "2026-13-45T00:00:00Z", "", None, 12345, []])
def test_unreadable_timestamp_is_refused(member_api, product, value):
    response = post(member_api, [{**event("x", product=product.pk), "occurred_at": value}])

    assert "occurred_at" in response.json()["rejected"][0]["errors"]


def test_timestamp_without_offset_is_refused(member_api, product):
    naive = timezone.now().replace(tzinfo=None).isoformat()

    response = post(member_api, [{**event("x", product=product.pk), "occurred_at": naive}])

    assert "UTC offset" in response.json()["rejected"][0]["errors"]["occurred_at"][0]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"product": None}, "product"),
        ({"product": "abc"}, "product"),
        ({"product": -3}, "product"),
        ({"product": 2**70}, "product"),
        ({"quantity": 0}, "quantity"),
        ({"quantity": -1}, "quantity"),
        ({"quantity": 10**6}, "quantity"),
        ({"quantity": "many"}, "quantity"),
        ({"client_event_id": ""}, "client_event_id"),
        ({"client_event_id": "x" * 65}, "client_event_id"),
        ({"client_event_id": None}, "client_event_id"),
        ({"type": None}, "type"),
    ],
)
def test_bad_fields_are_refused_with_the_field_named(member_api, product, fields, field):
    response = post(member_api, [{**event("x", product=product.pk), **fields}])

    assert response.status_code == 200
    assert field in response.json()["rejected"][0]["errors"]


def test_search_needs_a_query(member_api):
    response = post(member_api, [event("x", "search", query="  \x00 ")])

    assert "query" in response.json()["rejected"][0]["errors"]


def test_search_with_a_negative_result_count_is_refused(member_api):
    response = post(member_api, [event("x", "search", query="kettle", result_count=-1)])

    assert "result_count" in response.json()["rejected"][0]["errors"]


@pytest.mark.parametrize("item", ["view", 3, None, ["a"]])
def test_an_event_that_is_not_an_object_is_refused(member_api, product, item):
    response = post(member_api, [item, event("ok", product=product.pk)])

    body = response.json()
    assert body["accepted"] == 1
    assert body["rejected"][0]["index"] == 0
    assert body["rejected"][0]["errors"] == {
        "non_field_errors": ["An event must be a JSON object."]
    }


# --- duplicates -----------------------------------------------------------------------


def test_resending_a_batch_counts_duplicates_and_stores_nothing(member_api, member, product):
    batch = [event("a", product=product.pk), event("b", product=product.pk)]
    post(member_api, batch)

    response = post(member_api, batch + [event("c", product=product.pk)])

    assert response.json() == {"accepted": 1, "duplicates": 2, "rejected": []}
    assert Event.objects.filter(user=member).count() == 3


def test_duplicates_within_one_batch_are_stored_once(member_api, member, product):
    response = post(
        member_api,
        [
            event("a", product=product.pk),
            event("a", product=product.pk),
            event("b", "search", query="x"),
        ],
    )

    assert response.json() == {"accepted": 2, "duplicates": 1, "rejected": []}
    assert Event.objects.filter(user=member, client_event_id="a").count() == 1


def test_the_same_client_id_from_another_member_is_not_a_duplicate(member_api, product):
    other = MemberFactory()
    Event.objects.create(
        user=other, event_type="view", product=product, client_event_id="a", source="api"
    )

    response = post(member_api, [event("a", product=product.pk)])

    assert response.json()["accepted"] == 1


def test_a_rejected_event_does_not_count_as_sent(member_api, product):
    post(member_api, [event("a", product=987654)])

    response = post(member_api, [event("a", product=product.pk)])

    assert response.json()["accepted"] == 1


# --- the batch as a whole ----------------------------------------------------------------


def test_too_many_events_is_413_with_a_clear_code(member_api, product, settings):
    settings.EVENTS_BATCH_MAX = 3

    response = post(member_api, [event(str(i), product=product.pk) for i in range(4)])

    assert response.status_code == 413
    body = response.json()
    assert body["code"] == "batch_too_large"
    assert body["detail"] == {"max_events": 3, "received": 4}
    assert not Event.objects.exists()


def test_a_full_batch_is_accepted_in_a_fixed_number_of_queries(
    member_api, product, settings, django_assert_max_num_queries
):
    settings.EVENTS_BATCH_MAX = 50
    batch = [event(str(i), product=product.pk) for i in range(50)]

    # token, products, savepoint, member lock, known ids, bulk insert, release
    with django_assert_max_num_queries(8):
        response = post(member_api, batch)

    assert response.json()["accepted"] == 50


def test_non_json_body_is_400(member_api):
    response = member_api.post(URL, "events: nope", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


@pytest.mark.parametrize(
    "body", [[], ["a"], {"events": "view"}, {"events": {"a": 1}}, {"events": []}, {}, {"x": 1}]
)
def test_body_without_an_events_list_is_400(member_api, body):
    response = member_api.post(URL, body, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"


def test_anonymous_client_gets_401(api_client, product):
    response = post(api_client, [event("a", product=product.pk)])

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert not Event.objects.exists()


def test_get_is_not_allowed(member_api):
    assert member_api.get(URL).status_code == 405
