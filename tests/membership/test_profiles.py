"""The profile: incremental update == full rebuild; corrections respected; coalescing."""

from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest

from accounts.models import Tag
from browsing import services as browsing
from browsing.models import Event
from membership.models import MemberProfile
from membership.profiles import interest_hide, profile_refresh, profiles_rebuild
from orders.models import Review
from tests.factories import (
    BrandFactory,
    CategoryFactory,
    MemberFactory,
    OrderItemFactory,
    ProductFactory,
)
from tests.membership.conftest import completed_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    shoes, books = CategoryFactory(name="Shoes"), CategoryFactory(name="Books")
    acme = BrandFactory(name="Acme")
    return {
        "shoes": shoes,
        "books": books,
        "acme": acme,
        "sneaker": ProductFactory(category=shoes, brand=acme, price=Decimal("300.00")),
        "novel": ProductFactory(category=books, price=Decimal("30.00")),
    }


def _history(member, shop, now):
    order = completed_order(member, "600.00", now - timedelta(days=3))
    item = OrderItemFactory(order=order, product=shop["sneaker"], quantity=2)
    for days in (1, 2, 40):
        Event.objects.create(
            user=member, event_type="view", product=shop["novel"],
            occurred_at=now - timedelta(days=days),
        )  # fmt: skip
    Event.objects.create(
        user=member, event_type="favorite", product=shop["sneaker"], occurred_at=now
    )
    Review.objects.create(
        item=item, user=member, product=shop["sneaker"], rating=5, sentiment=Decimal("0.9")
    )
    member.profile.favourite_brands.add(shop["acme"])
    tag, _created = Tag.objects.get_or_create(slug="vip", defaults={"name": "VIP"})
    member.profile.tags.add(tag)


def test_incremental_and_full_rebuild_give_identical_profiles(shop, now):
    members = [MemberFactory() for _ in range(3)]
    for m in members:
        _history(m, shop, now)
    interest_hide(user=members[1], kind="category", object_id=shop["books"].pk)

    incremental = {m.pk: profile_refresh(user_id=m.pk, now=now) for m in members}
    MemberProfile.objects.update(data={})
    profiles_rebuild(now=now, batch_size=2)
    full = dict(MemberProfile.objects.values_list("user_id", "data"))

    assert all(full[m.pk] == incremental[m.pk] for m in members)


def test_profile_reads_purchases_events_reviews_preferences_and_tags(member, shop, now):
    _history(member, shop, now)

    data = profile_refresh(user_id=member.pk, now=now)

    assert data["categories"][0]["id"] == shop["shoes"].pk  # bought twice + favourite
    assert {c["id"] for c in data["categories"]} == {shop["shoes"].pk, shop["books"].pk}
    assert data["brands"][0]["id"] == shop["acme"].pk
    assert data["orders"] == 1 and data["spend"] == "600.00"
    assert data["lifecycle"] == "new"
    assert data["sentiment_tendency"] == "positive"
    assert "staff:vip" in data["tags"] and "lifecycle:new" in data["tags"]
    assert data["price_band"] == "luxury"  # bought the dearest product of the shop


def test_a_hidden_interest_disappears_from_both_paths_and_can_come_back(member, shop, now):
    _history(member, shop, now)

    hidden = interest_hide(user=member, kind="category", object_id=shop["books"].pk)
    profiles_rebuild()
    rebuilt = MemberProfile.objects.get(user=member).data
    shown = interest_hide(user=member, kind="category", object_id=shop["books"].pk, hidden=False)

    assert shop["books"].pk not in {c["id"] for c in hidden["categories"]}
    assert shop["books"].pk not in {c["id"] for c in rebuilt["categories"]}
    assert rebuilt["hidden_categories"] == [shop["books"].pk]
    assert shop["books"].pk in {c["id"] for c in shown["categories"]}


def test_lifecycle_stages_follow_recency(member, now):
    completed_order(member, "50.00", now - timedelta(days=200))
    completed_order(member, "50.00", now - timedelta(days=120))

    assert profile_refresh(user_id=member.pk, now=now)["lifecycle"] == "at_risk"
    assert profile_refresh(user_id=member.pk, now=now + timedelta(days=90))["lifecycle"] == "lapsed"


def test_a_member_without_history_is_a_prospect(member, now):
    data = profile_refresh(user_id=member.pk, now=now)

    assert data["lifecycle"] == "prospect" and data["categories"] == []


def test_new_events_update_the_profile_after_commit(
    member, shop, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        browsing.favorite_add(user=member, product_id=shop["sneaker"].pk)

    profile = MemberProfile.objects.get(user=member)
    assert profile.data["categories"][0]["id"] == shop["shoes"].pk


def test_a_burst_of_events_costs_one_update(member, shop, django_capture_on_commit_callbacks):
    from django.core.cache import cache

    cache.clear()
    with (
        mock.patch("membership.tasks.refresh_member_profile.apply_async") as enqueue,
        django_capture_on_commit_callbacks(execute=True),
    ):
        for _ in range(5):
            browsing.product_view_record(user=member, product_id=shop["novel"].pk)
        browsing.favorite_add(user=member, product_id=shop["novel"].pk)

    assert enqueue.call_count == 1
    assert enqueue.call_args.kwargs["countdown"] == 5
