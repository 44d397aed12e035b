"""Free-shipping promotions: recorded on the order when they waived the fee (source
"shipping", the fee as amount, for reports), judged on the in-scope subtotal when scoped,
limited per member and by budget like other promotions."""

from decimal import Decimal

import pytest
from django.test import override_settings
from rest_framework.authtoken.models import Token

from orders import services as order_services
from orders.cart import CartOwner, cart_add_item, cart_view
from orders.checkout import order_place
from promotions.models import OrderDiscount, Promotion
from tests.factories import (
    AddressFactory,
    CategoryFactory,
    MemberFactory,
    ProductFactory,
    PromotionFactory,
)

D = Decimal
pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("shop_shipping"),
]


@pytest.fixture
def shop_shipping():
    with override_settings(SHIPPING_FEE="10.00", FREE_SHIPPING_THRESHOLD="99.00"):
        yield


def _cart(member, *specs):
    for price, category in specs:
        kwargs = {"category": category} if category else {}
        product = ProductFactory(price=D(price), stock=20, **kwargs)
        cart_add_item(owner=CartOwner(user=member), product_id=product.pk, quantity=1)


def _priced(member):
    return cart_view(owner=CartOwner(user=member)).priced


def _place(member):
    return order_place(user=member, address_id=AddressFactory(user=member).pk)


def test_the_promotion_that_waived_the_fee_is_recorded_on_the_order():
    PromotionFactory(code="ship59", name="Free shipping from 59", kind="free_shipping",
                     min_spend=D("59.00"), tiers=[])  # fmt: skip
    member = MemberFactory()
    _cart(member, ("60.00", None))

    order = _place(member)

    assert order.shipping_fee == D("0.00") and order.discount_total == D("0.00")
    record = OrderDiscount.objects.get(order=order)
    assert (record.source, record.code, record.amount) == ("shipping", "ship59", D("10.00"))
    assert record.promotion.code == "ship59" and not record.lines.exists()
    promotion = Promotion.objects.get(code="ship59")
    assert (promotion.uses, promotion.spent) == (1, D("10.00"))


def test_when_the_shops_own_rule_gives_free_shipping_the_shop_is_credited():
    PromotionFactory(code="ship59", kind="free_shipping", min_spend=D("59.00"), tiers=[])
    member = MemberFactory()
    _cart(member, ("120.00", None))

    assert _priced(member).free_shipping.source == "shop"
    order = _place(member)

    assert order.shipping_fee == 0 and not OrderDiscount.objects.filter(order=order).exists()


@pytest.mark.parametrize("in_scope,free", [("58.99", False), ("59.00", True), ("59.01", True)])
def test_a_scoped_promotion_is_judged_on_the_in_scope_subtotal(in_scope, free):
    tea = CategoryFactory()
    promotion = PromotionFactory(code="tea59", kind="free_shipping", min_spend=D("59.00"),
                                 tiers=[])  # fmt: skip
    promotion.categories.add(tea)
    member = MemberFactory()
    _cart(member, (in_scope, tea), ("30.00", None))  # 88.99+: whole cart over 59

    priced = _priced(member)

    assert (priced.shipping_fee == 0) is free
    if not free:
        (hint,) = [h for h in priced.hints if h.code == "free_shipping"]
        assert hint.amount == D("0.01") and "eligible items" in hint.message


def test_a_scoped_promotion_with_nothing_in_scope_is_not_hinted():
    tea = CategoryFactory()
    promotion = PromotionFactory(code="tea59", kind="free_shipping", min_spend=D("0"), tiers=[])
    promotion.categories.add(tea)
    member = MemberFactory()
    _cart(member, ("20.00", None))

    priced = _priced(member)

    assert priced.shipping_fee == D("10.00")
    (hint,) = [h for h in priced.hints if h.code == "free_shipping"]
    assert hint.amount == D("79.00")  # the shop's own threshold


def test_cancelling_returns_the_use_and_the_budget(on_commit):
    PromotionFactory(code="ship0", kind="free_shipping", min_spend=D("0"), tiers=[],
                     budget=D("100.00"))  # fmt: skip
    member = MemberFactory()
    _cart(member, ("20.00", None))
    order = _place(member)

    with on_commit():
        order_services.order_cancel(order_id=order.pk, by=member)

    record = OrderDiscount.objects.get(order=order)
    assert record.status == "returned"
    promotion = Promotion.objects.get(code="ship0")
    assert (promotion.uses, promotion.spent) == (0, D("0.00"))


def test_members_only_and_used_up_free_shipping_is_not_offered(client):
    PromotionFactory(code="once", kind="free_shipping", min_spend=D("0"), tiers=[],
                     per_member_limit=1)  # fmt: skip
    member = MemberFactory()
    _cart(member, ("20.00", None))
    assert _priced(member).shipping_fee == 0
    _place(member)

    _cart(member, ("20.00", None))
    assert _priced(member).shipping_fee == D("10.00")
    other = MemberFactory()  # another member's use does not count
    _cart(other, ("20.00", None))
    assert _priced(other).shipping_fee == 0
    product = ProductFactory(price=D("20.00"))
    client.post("/cart/add/", {"product": product.pk, "quantity": 1})
    assert client.get("/cart/").context["priced"].shipping_fee == D("10.00")  # a visitor


def test_a_budget_that_cannot_pay_one_more_fee_stops_the_offer():
    PromotionFactory(code="low", kind="free_shipping", min_spend=D("0"), tiers=[],
                     budget=D("15.00"), spent=D("9.99"))  # fmt: skip
    member = MemberFactory()
    _cart(member, ("20.00", None))

    assert _priced(member).shipping_fee == D("10.00")


def test_the_order_api_lists_the_waived_fee(api_client):
    PromotionFactory(code="ship0", name="Free shipping week", kind="free_shipping",
                     min_spend=D("0"), tiers=[])  # fmt: skip
    member = MemberFactory()
    _cart(member, ("20.00", None))
    order = _place(member)
    token, _created = Token.objects.get_or_create(user=member)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    body = api_client.get(f"/api/v1/orders/{order.pk}/").json()

    (row,) = body["savings"]["discounts"]
    assert (row["source"], row["label"], row["amount"]) == (
        "shipping",
        "Free shipping week",
        "10.00",
    )
    assert body["discount_total"] == "0.00" and body["shipping_fee"] == "0.00"
