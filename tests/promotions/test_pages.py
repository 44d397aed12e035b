"""Storefront pages: cart and checkout with coupons and points; points, wallet, exchange."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from orders.cart import CartOwner, cart_add_item
from orders.models import Order
from promotions.models import Coupon, PointsExchange
from tests.factories import (
    AddressFactory,
    CouponCampaignFactory,
    CouponFactory,
    ExchangeItemFactory,
    MemberFactory,
    ProductFactory,
    PromotionFactory,
    points_grant,
)

D = Decimal
pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery-9"


@pytest.fixture
def member():
    return MemberFactory(email="bob@example.com")


@pytest.fixture
def client_in(client, member):
    client.force_login(member)
    return client


def _cart(member, price="165.00"):
    product = ProductFactory(price=D(price), stock=50)
    cart_add_item(owner=CartOwner(user=member), product_id=product.pk, quantity=1)
    return product


def test_cart_page_shows_the_next_threshold_hint(client_in, member):
    PromotionFactory(code="m200", name="200 off 20", tiers=[["200.00", "20.00"]])
    _cart(member)
    page = client_in.get(reverse("orders:cart")).content.decode()
    assert 'data-hint="promotion_threshold"' in page
    assert "35.00" in page and "200 off 20" in page


def test_applying_a_coupon_and_points_on_the_cart_page(client_in, member):
    PromotionFactory(code="m200", name="200 off 20", tiers=[["200.00", "20.00"]])
    CouponFactory(code="TEN", campaign=CouponCampaignFactory(name="Ten off"))
    points_grant(member, 1000)
    _cart(member, "210.00")

    response = client_in.post(
        reverse("orders:cart_offers"), {"coupon": "ten", "points": "500", "action": "apply"}
    )

    assert response.status_code == 302
    page = client_in.get(reverse("orders:cart"))
    priced = page.context["priced"]
    assert {d.source: d.amount for d in priced.discounts} == {
        "promotion": D("20.00"),
        "coupon": D("10.00"),
        "points": D("5.00"),
    }
    html = page.content.decode()
    assert "Coupon TEN: Ten off" in html and "500 points" in html


@pytest.mark.parametrize(
    "setup,message",
    [
        ("unknown", "does not exist"),
        ("expired", "has expired"),
        ("not_yet_valid", "valid from"),
        ("used", "already been used"),
        ("out_of_scope", "does not apply to the items"),
        ("min_spend", "more on eligible items"),
    ],
)
def test_bad_codes_give_a_clear_message_on_the_cart_page(client_in, member, setup, message):
    from tests.factories import CategoryFactory

    now = timezone.now()
    _cart(member, "50.00")
    campaign = CouponCampaignFactory()
    if setup == "expired":
        campaign.ends_at = now - timedelta(hours=1)
    elif setup == "not_yet_valid":
        campaign.starts_at = now + timedelta(days=1)
    elif setup == "min_spend":
        campaign.min_spend = D("60.00")
    campaign.save()
    if setup == "out_of_scope":
        campaign.categories.set([CategoryFactory()])
    CouponFactory(campaign=campaign, code="C1", used_count=1 if setup == "used" else 0)
    code = "NOPE" if setup == "unknown" else "C1"

    response = client_in.post(
        reverse("orders:cart_offers"), {"coupon": code, "action": "apply"}, follow=True
    )

    assert message in response.content.decode()
    assert response.context["priced"].discount_total == 0


def test_points_beyond_balance_are_refused_with_a_reason_on_the_cart_page(client_in, member):
    _cart(member, "100.00")
    points_grant(member, 300)
    response = client_in.post(
        reverse("orders:cart_offers"), {"points": "301", "action": "apply"}, follow=True
    )
    assert "You have only 300 points." in response.content.decode()
    response = client_in.post(
        reverse("orders:cart_offers"), {"points": "-1", "action": "apply"}, follow=True
    )
    assert "whole number" in response.content.decode()


def test_removing_the_coupon(client_in, member):
    CouponFactory(code="TEN")
    _cart(member, "50.00")
    client_in.post(reverse("orders:cart_offers"), {"coupon": "TEN", "action": "apply"})
    client_in.post(reverse("orders:cart_offers"), {"action": "remove_coupon"})
    assert client_in.get(reverse("orders:cart")).context["priced"].discount_total == 0


def test_checkout_page_places_the_order_with_coupon_and_points(client_in, member):
    address = AddressFactory(user=member, is_default=True)
    CouponFactory(code="TEN")
    points_grant(member, 1000)
    _cart(member, "120.00")
    client_in.post(reverse("orders:cart_offers"), {"coupon": "TEN", "points": "500"})
    page = client_in.get(reverse("orders:checkout"))
    assert page.context["form"]["coupon"].value() == "TEN"
    key = page.context["form"]["idempotency_key"].value()

    response = client_in.post(
        reverse("orders:checkout"),
        {"address": str(address.pk), "coupon": "TEN", "points": "500", "idempotency_key": key},
    )

    assert response.status_code == 302
    order = Order.objects.get(user=member)
    assert order.discount_total == D("15.00")
    assert order.total == D("105.00")


def test_checkout_page_shows_a_bad_code_on_the_coupon_field(client_in, member):
    address = AddressFactory(user=member, is_default=True)
    CouponFactory(code="USED", used_count=1)
    _cart(member, "120.00")

    response = client_in.post(
        reverse("orders:checkout"),
        {"address": str(address.pk), "coupon": "USED", "idempotency_key": "k"},
    )

    assert response.status_code == 400
    assert response.context["form"].errors["coupon"] == ["This coupon has already been used."]
    assert Order.objects.count() == 0


def test_checkout_apply_reprices_without_placing(client_in, member):
    AddressFactory(user=member, is_default=True)
    CouponFactory(code="TEN")
    _cart(member, "120.00")

    response = client_in.post(
        reverse("orders:checkout"), {"address": "", "coupon": "ten", "action": "apply"}
    )

    assert response.status_code == 200
    assert response.context["priced"].discount_total == D("10.00")
    assert "address" not in response.context["form"].errors
    assert Order.objects.count() == 0


# --- member pages ------------------------------------------------------------------------------


def test_points_page_shows_balance_expiring_and_history_of_mine_only(
    client_in, member, django_assert_max_num_queries
):
    lot = points_grant(member, 800, reason="Welcome bonus")
    lot.expires_at = timezone.now() + timedelta(days=3)
    lot.save(update_fields=["expires_at"])
    points_grant(MemberFactory(), 5, reason="Somebody else")
    with CaptureQueriesContext(connection) as one:
        client_in.get(reverse("promotions:points"))
    for _i in range(10):
        points_grant(member, 1)

    with django_assert_max_num_queries(len(one.captured_queries)):
        response = client_in.get(reverse("promotions:points"))

    html = response.content.decode()
    assert 'data-balance="810"' in html
    assert "Welcome bonus" in html and "Somebody else" not in html
    assert "800 points expire within 30 days" in html


def test_member_pages_need_a_login(client):
    for name in ("promotions:points", "promotions:coupons", "promotions:exchange"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_wallet_page_and_claiming_a_public_code(client_in, member):
    CouponCampaignFactory(public_code="HELLO", name="Hello coupon")
    CouponFactory(owner=MemberFactory(), code="NOTMINE")

    response = client_in.post(reverse("promotions:coupon_claim"), {"code": "hello"}, follow=True)

    html = response.content.decode()
    assert "Hello coupon" in html and "NOTMINE" not in html
    assert Coupon.objects.filter(owner=member).count() == 1
    again = client_in.post(reverse("promotions:coupon_claim"), {"code": "hello"}, follow=True)
    assert "already have this coupon" in again.content.decode()
    empty = client_in.post(reverse("promotions:coupon_claim"), {"code": ""}, follow=True)
    assert "Enter a coupon code." in empty.content.decode()


def test_exchange_page_exchanges_once_per_key(client_in, member):
    item = ExchangeItemFactory(name="Five off", points_cost=500)
    points_grant(member, 600)
    page = client_in.get(reverse("promotions:exchange"))
    assert "Five off" in page.content.decode()

    for _i in range(2):
        client_in.post(
            reverse("promotions:exchange"), {"item": item.pk, "idempotency_key": "same-key"}
        )

    assert PointsExchange.objects.filter(user=member).count() == 1
    response = client_in.post(reverse("promotions:exchange"), {"item": item.pk}, follow=True)
    assert "This needs 500 points; you have 100." in response.content.decode()
    bad = client_in.post(reverse("promotions:exchange"), {"item": "x"}, follow=True)
    assert "Choose an item to exchange." in bad.content.decode()


def test_account_menu_links_to_the_loyalty_pages(client_in):
    html = client_in.get(reverse("promotions:coupons")).content.decode()
    for name in ("promotions:points", "promotions:coupons", "promotions:exchange"):
        assert reverse(name) in html


def test_wallet_and_exchange_pages_do_not_query_per_row(
    client_in, member, django_assert_max_num_queries
):
    from promotions import services

    AddressFactory(user=member, is_default=True)
    points_grant(member, 10_000)
    CouponFactory(owner=member, code="W0")
    item = ExchangeItemFactory(points_cost=100)
    services.points_exchange(user=member, item_id=item.pk)
    pages = [reverse("promotions:coupons"), reverse("promotions:exchange")]
    counts = []
    for url in pages:
        with CaptureQueriesContext(connection) as one:
            client_in.get(url)
        counts.append(len(one.captured_queries))
    for i in range(8):
        CouponFactory(owner=member, code=f"W{i + 1}")
        extra = ExchangeItemFactory(points_cost=100)
        services.points_exchange(user=member, item_id=extra.pk)

    for url, count in zip(pages, counts, strict=True):
        with django_assert_max_num_queries(count):
            assert client_in.get(url).status_code == 200


def test_points_history_reasons_follow_the_readers_language(client_in, member):
    """The earn entry is written by a Celery task (English); a Chinese reader sees Chinese."""
    from django.utils import translation

    from promotions.models import PointsEntry
    from promotions.services import account_lock
    from tests.factories import OrderFactory

    order = OrderFactory(user=member, number="MM20260001")
    with translation.override("en"):
        account_lock(member.pk)
        PointsEntry.objects.create(
            user=member,
            kind="earn",
            amount=50,
            balance_after=50,
            reason="Order MM20260001 completed",
            ref=f"earn:order:{order.pk}",
            order=order,
        )
    staff_note = points_grant(member, 5, reason="Sorry for the delay")

    zh = {"HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9"}
    html = client_in.get(reverse("promotions:points"), **zh).content.decode()
    assert "订单 MM20260001 已完成" in html and "Order MM20260001 completed" not in html
    assert staff_note.reason in html  # staff's own words stay as written
    rows = client_in.get("/api/v1/me/points/history/", **zh).json()["results"]
    assert [r["reason"] for r in rows] == ["Sorry for the delay", "订单 MM20260001 已完成"]
    english = client_in.get("/api/v1/me/points/history/", HTTP_ACCEPT_LANGUAGE="en").json()
    assert english["results"][1]["reason"] == "Order MM20260001 completed"
