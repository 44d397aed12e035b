"""A member's favourites, orders, reviews and cart in their data export and account deletion."""

import json
from decimal import Decimal

import pytest

from accounts import services
from browsing.models import Favorite
from orders.models import Cart, CartItem, Order, Review
from tests.factories import MemberFactory, ProductFactory, order_with_items

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice_and_bob():
    alice, bob = MemberFactory(email="alice@example.com"), MemberFactory(email="bob@example.com")
    product = ProductFactory(name="Teapot", price=Decimal("45.50"))
    for member, text in ((alice, "lovely teapot"), (bob, "bob's secret review")):
        order = order_with_items(user=member, products=[product], status="completed")
        Review.objects.create(
            item=order.items.get(), user=member, product=product, rating=5, body=text
        )
        Favorite.objects.create(user=member, product=product)
        cart = Cart.objects.create(user=member)
        CartItem.objects.create(cart=cart, product=product, quantity=2)
    return alice, bob


def test_export_holds_own_orders_reviews_favourites_and_cart_only(alice_and_bob):
    alice, _bob = alice_and_bob

    data = services.user_export_data(user=alice)

    text = json.dumps(data)  # serialisable: Decimals and datetimes converted
    assert "bob's secret review" not in text
    assert len(data["orders"]) == 1
    assert data["orders"][0]["items"][0]["unit_price"] == "45.50"
    assert [r["body"] for r in data["reviews"]] == ["lovely teapot"]
    assert [f["product"]["name"] for f in data["favorites"]] == ["Teapot"]
    assert data["cart"] == [{"sku": data["cart"][0]["sku"], "name": "Teapot", "quantity": 2}]


def test_deletion_erases_reviews_cart_favourites_and_blanks_order_addresses(alice_and_bob):
    alice, bob = alice_and_bob

    services.user_delete_account(user=alice)

    assert not Review.objects.filter(user=alice).exists()
    assert not Cart.objects.filter(user=alice).exists()
    assert not Favorite.objects.filter(user=alice).exists()
    order = Order.objects.get(user=alice)  # kept for the shop's accounts
    assert (order.recipient_name, order.phone, order.line1, order.postal_code) == ("", "", "", "")
    assert order.city == "Hangzhou"
    # Bob's rows are untouched
    assert Review.objects.filter(user=bob).count() == 1
    assert Favorite.objects.filter(user=bob).count() == 1
    assert Order.objects.get(user=bob).recipient_name == "Li Lei"
