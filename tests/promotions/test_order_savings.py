"""What an order saved, by source, on the order page, GET orders/ and orders/{id}/, and the
admin: promotions by name, the coupon code, points with their value, points earned on
completion and taken back by refunds (``ORDER_SAVINGS_PROVIDER``)."""

from decimal import Decimal

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token

from orders import refunds
from orders import services as order_services
from orders.cart import CartOwner, cart_add_item
from orders.checkout import order_place
from orders.paying import order_pay
from tests.factories import (
    AddressFactory,
    CouponCampaignFactory,
    CouponFactory,
    MemberFactory,
    ProductFactory,
    PromotionFactory,
    points_grant,
)

D = Decimal
pytestmark = pytest.mark.django_db


def _place(member, *prices, options=None):
    address = AddressFactory(user=member)
    for price in prices:
        product = ProductFactory(price=D(price), stock=50)
        cart_add_item(owner=CartOwner(user=member), product_id=product.pk, quantity=1)
    return order_place(user=member, address_id=address.pk, options=options or {})


def _complete(order, member):
    staff = MemberFactory(is_staff=True)
    order_pay(order_id=order.pk, user=member)
    order_services.order_ship(order_id=order.pk, by=staff)
    order_services.order_deliver(order_id=order.pk, by=staff)
    order_services.order_confirm_receipt(order_id=order.pk, user=member)


def _token_client(api_client, user):
    token, _created = Token.objects.get_or_create(user=user)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return api_client


@pytest.fixture
def saved_order(on_commit):
    """满200减20, coupon TENOFF (10.00) and 500 points on a 210.00 order, completed, then
    half refunded."""
    PromotionFactory(code="m200", name="Spend 200 save 20", tiers=[["200.00", "20.00"]])
    CouponFactory(code="TENOFF")
    member = MemberFactory()
    points_grant(member, 1000)
    order = _place(member, "105.00", "105.00", options={"coupon": "TENOFF", "points": 500})
    with on_commit():
        _complete(order, member)
    with on_commit():
        item = order.items.order_by("pk").first()
        refunds.order_refund(order_id=order.pk, lines=[(item.pk, 1)], by=member)
    return member, order


def test_api_detail_shows_discounts_by_source_and_points(api_client, saved_order):
    member, order = saved_order

    body = _token_client(api_client, member).get(f"/api/v1/orders/{order.pk}/").json()

    savings = body["savings"]
    by_source = {row["source"]: row for row in savings["discounts"]}
    assert by_source["promotion"]["label"] == "Spend 200 save 20"
    assert by_source["promotion"]["amount"] == "20.00"
    assert by_source["coupon"]["code"] == "TENOFF" and by_source["coupon"]["amount"] == "10.00"
    assert by_source["points"]["points"] == 500 and by_source["points"]["amount"] == "5.00"
    points = savings["points"]
    assert points["spent"] == 500 and points["spent_value"] == "5.00"
    assert points["earned"] == 175  # floor(210 - 35)
    assert points["reversed"] > 0 and points["returned"] > 0


def test_order_page_shows_each_source_and_the_points(client, saved_order):
    member, order = saved_order
    client.force_login(member)

    html = client.get(reverse("orders:order_detail", args=[order.number])).content.decode()

    assert "Spend 200 save 20" in html
    assert "Coupon TENOFF" in html
    assert "500 points" in html
    assert 'data-points="earned"' in html and "175 points earned" in html
    assert 'data-points="reversed"' in html


def test_admin_order_page_shows_the_savings(admin_client, saved_order):
    _member, order = saved_order

    html = admin_client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()

    assert "Spend 200 save 20" in html and "TENOFF" in html
    assert "Points earned: 175" in html


def test_another_members_order_is_not_found(api_client, client, saved_order):
    _member, order = saved_order
    other = MemberFactory()

    response = _token_client(api_client, other).get(f"/api/v1/orders/{order.pk}/")
    listed = api_client.get("/api/v1/orders/").json()
    client.force_login(other)
    page = client.get(reverse("orders:order_detail", args=[order.number]))

    assert response.status_code == 404
    assert listed["results"] == []
    assert page.status_code == 404


@pytest.mark.parametrize("bad", ["abc", "-1", "99999999999999999999", "1%00"])
def test_bad_order_ids_are_404s_not_500s(api_client, bad):
    response = _token_client(api_client, MemberFactory()).get(f"/api/v1/orders/{bad}/")
    assert response.status_code == 404


def test_an_order_without_discounts_has_empty_savings(api_client):
    member = MemberFactory()
    order = _place(member, "20.00")

    body = _token_client(api_client, member).get(f"/api/v1/orders/{order.pk}/").json()

    assert body["savings"]["discounts"] == []
    assert body["savings"]["points"]["spent"] == 0


@pytest.mark.parametrize("count", [1, 6])
def test_order_list_api_savings_cost_the_same_queries_for_any_number_of_orders(
    api_client, count, django_assert_max_num_queries
):
    campaign = CouponCampaignFactory(per_member_limit=None)
    CouponFactory(campaign=campaign, code="MANY", max_uses=50)
    PromotionFactory(code="m10", tiers=[["10.00", "1.00"]])
    member = MemberFactory()
    for _n in range(count):
        _place(member, "30.00", options={"coupon": "MANY"})
    client = _token_client(api_client, member)

    with django_assert_max_num_queries(6):
        body = client.get("/api/v1/orders/").json()

    assert len(body["results"]) == count
    assert all(len(o["savings"]["discounts"]) == 2 for o in body["results"])


def test_the_free_shipping_promotion_is_named_in_the_readers_language(client, settings):
    """The waived-fee record keeps the label of the checkout's language; the page names
    the promotion in the reader's, as it does for the other promotions."""
    from django.utils import translation

    settings.SHIPPING_FEE = "10.00"
    settings.FREE_SHIPPING_THRESHOLD = "100000.00"
    PromotionFactory(
        code="ship0",
        kind="free_shipping",
        tiers=[],
        min_spend=D("0"),
        name="Free shipping week",
        name_zh_hans="包邮周",
    )
    member = MemberFactory()
    with translation.override("en"):
        order = _place(member, "50.00")
    assert order.shipping_fee == 0
    client.force_login(member)
    html = client.get(order.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "包邮周" in html and "Free shipping week" not in html
