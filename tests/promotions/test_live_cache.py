"""The live promotion set is cached: no query on a hit, rebuilt on save/delete of a
promotion or its scope, and when a window starts or ends."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from orders.cart import CartOwner, cart_add_item
from promotions.audience import Audience
from promotions.selectors import promotion_rules, promotions_live_cached
from tests.factories import (
    BrandFactory,
    CategoryFactory,
    MemberFactory,
    ProductFactory,
    PromotionFactory,
)

D = Decimal
pytestmark = pytest.mark.django_db
EVERYONE = Audience()


def _codes(now=None):
    return {p.code for p in promotions_live_cached(now).promotions}


def test_a_warm_cache_reads_no_promotion_rows(django_assert_num_queries):
    category = CategoryFactory()
    promotion = PromotionFactory(code="cat10", kind="percent_off", percent=D("10"), tiers=[])
    promotion.categories.add(category)
    promotion_rules(user=None, audience=EVERYONE)  # warm

    with django_assert_num_queries(0):
        loaded = promotion_rules(user=None, audience=EVERYONE)

    assert [r.code for r in loaded.rules] == ["cat10"]
    assert category.pk in loaded.rules[0].scope.category_ids


def test_saving_deleting_and_rescoping_a_promotion_show_at_once():
    promotion = PromotionFactory(code="first")
    assert _codes() == {"first"}

    PromotionFactory(code="second")
    assert _codes() == {"first", "second"}

    promotion.is_active = False
    promotion.save()
    assert _codes() == {"second"}

    brand = BrandFactory()
    second = promotions_live_cached().promotions[0]
    second.brands.add(brand)
    assert promotions_live_cached().scopes[second.pk].brand_ids == {brand.pk}

    second.delete()
    assert _codes() == set()


def test_a_window_that_starts_or_ends_is_picked_up_at_its_boundary():
    now = timezone.now()
    PromotionFactory(code="later", starts_at=now + timedelta(hours=1))
    PromotionFactory(code="ending", ends_at=now + timedelta(hours=2))
    assert _codes(now) == {"ending"}
    assert _codes(now + timedelta(minutes=59)) == {"ending"}
    assert _codes(now + timedelta(hours=1)) == {"later", "ending"}
    assert _codes(now + timedelta(hours=2)) == {"later"}


def test_a_budget_is_read_fresh_so_a_spent_promotion_is_not_offered():
    promotion = PromotionFactory(code="budget", budget=D("20.00"))
    rule = promotion_rules(user=None, audience=EVERYONE).rules[0]
    assert rule.budget_left == D("20.00") and not rule.blocked

    type(promotion).objects.filter(pk=promotion.pk).update(spent=D("20.00"))  # checkout did

    rule = promotion_rules(user=None, audience=EVERYONE).rules[0]
    assert rule.budget_left == D("0.00") and rule.blocked == "budget_spent"


@override_settings(PROMOTIONS_LIVE_CACHE_SECONDS=0)
def test_the_cache_can_be_turned_off(django_assert_max_num_queries):
    PromotionFactory(code="off")
    promotion_rules(user=None, audience=EVERYONE)
    with CaptureQueriesContext(connection) as queries:
        promotion_rules(user=None, audience=EVERYONE)
    assert len(queries.captured_queries) >= 1


@pytest.mark.parametrize("count", [1, 12])
def test_cart_page_costs_the_same_with_any_number_of_promotions(
    client, count, django_assert_max_num_queries
):
    category = CategoryFactory()
    for n in range(count):
        promotion = PromotionFactory(code=f"p{n}", tiers=[[f"{100 + n}.00", "5.00"]])
        promotion.categories.add(category)
    member = MemberFactory()
    product = ProductFactory(price=D("50.00"), category=category)
    cart_add_item(owner=CartOwner(user=member), product_id=product.pk, quantity=1)
    client.force_login(member)
    client.get(reverse("orders:cart"))  # warm: department nav, live promotions

    # session, user, cart lines, header count, points balance, and the member's audience and
    # tier privileges (membership: the tier once per request, profile + score in one query,
    # staff tags), and recommend's "you may also like" (6: cart products from the page's lines,
    # purchases + favourite categories in one query, tier-exclusive products from membership's
    # cache): the count without promotions
    with django_assert_max_num_queries(14):
        response = client.get(reverse("orders:cart"))

    assert response.status_code == 200


def test_a_bulk_update_invalidates_but_the_counters_do_not(django_assert_num_queries):
    from promotions.models import Promotion

    PromotionFactory(code="bulk")
    assert _codes() == {"bulk"}

    Promotion.objects.filter(code="bulk").update(uses=3, spent=D("1.00"))  # checkout counters
    with django_assert_num_queries(0):
        promotions_live_cached()

    Promotion.objects.filter(code="bulk").update(is_active=False)
    assert _codes() == set()


def test_a_checkout_that_finds_the_promotion_gone_refreshes_the_set():
    from django.db.models.signals import post_save

    from orders.checkout import order_place
    from promotions.exceptions import PromotionExhausted
    from promotions.models import Promotion
    from promotions.receivers import _live_changed
    from tests.factories import AddressFactory

    promotion = PromotionFactory(code="gone", kind="fixed_off", amount=D("5.00"), tiers=[])
    member = MemberFactory()
    product = ProductFactory(price=D("50.00"), stock=5)
    cart_add_item(owner=CartOwner(user=member), product_id=product.pk, quantity=1)
    assert _codes() == {"gone"}
    # switched off behind the cache's back (no signal, no update())
    post_save.disconnect(
        _live_changed, sender=Promotion, dispatch_uid=f"promotions.live.{post_save}"
    )
    try:
        promotion.is_active = False
        promotion.save()
    finally:
        post_save.connect(
            _live_changed, sender=Promotion, dispatch_uid=f"promotions.live.{post_save}"
        )
    assert _codes() == {"gone"}  # stale

    with pytest.raises(PromotionExhausted):
        order_place(user=member, address_id=AddressFactory(user=member).pk)

    assert _codes() == set()
