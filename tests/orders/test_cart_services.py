"""Cart services and selectors: add, update, remove, merge, flags and the priced view."""

from decimal import Decimal

import pytest
from django.test import override_settings

from browsing.models import Event
from orders import cart as carts
from orders.cart import CartItemNotFound, CartOwner, InvalidQuantity, Problem
from orders.exceptions import OutOfStock, ProductUnavailable
from orders.models import Cart, CartItem
from tests.factories import MemberFactory, ProductFactory

pytestmark = pytest.mark.django_db

VISITOR = "v" * 32


@pytest.fixture
def member():
    return MemberFactory(email="alice@example.com")


@pytest.fixture
def owner(member):
    return CartOwner(user=member)


def _events(event_type):
    return list(
        Event.objects.filter(event_type=event_type).values_list(
            "user_id", "session_key", "product_id", "quantity"
        )
    )


# --- add -----------------------------------------------------------------------------------------


def test_adding_creates_a_line_and_logs_a_cart_add_event(owner, member):
    product = ProductFactory(stock=10)

    item = carts.cart_add_item(owner=owner, product_id=product.pk, quantity=2)

    assert (item.cart.user_id, item.product_id, item.quantity) == (member.pk, product.pk, 2)
    assert _events(Event.Type.CART_ADD) == [(member.pk, "", product.pk, 2)]


def test_adding_the_same_product_again_adds_to_its_line(owner):
    product = ProductFactory(stock=10)
    carts.cart_add_item(owner=owner, product_id=product.pk, quantity=2)

    item = carts.cart_add_item(owner=owner, product_id=product.pk, quantity=3)

    assert item.quantity == 5
    assert CartItem.objects.count() == 1


def test_a_visitor_gets_a_cart_keyed_by_their_visitor_key():
    product = ProductFactory()

    carts.cart_add_item(owner=CartOwner(visitor=VISITOR), product_id=product.pk, quantity=1)

    cart = Cart.objects.get()
    assert (cart.user_id, cart.visitor_key) == (None, VISITOR)
    assert _events(Event.Type.CART_ADD) == [(None, VISITOR, product.pk, 1)]


@pytest.mark.parametrize("quantity", [0, -1, 100, 10**30, "2", 1.5, True, None])
def test_a_quantity_that_is_not_a_whole_number_from_1_to_the_limit_is_refused(owner, quantity):
    product = ProductFactory(stock=1000)

    with pytest.raises(InvalidQuantity):
        carts.cart_add_item(owner=owner, product_id=product.pk, quantity=quantity)
    assert not CartItem.objects.exists()


@override_settings(CART_MAX_QUANTITY=5)
def test_a_line_cannot_grow_past_the_per_product_limit(owner):
    product = ProductFactory(stock=100)
    carts.cart_add_item(owner=owner, product_id=product.pk, quantity=4)

    with pytest.raises(InvalidQuantity) as exc:
        carts.cart_add_item(owner=owner, product_id=product.pk, quantity=2)

    assert exc.value.detail["max"] == 5
    assert CartItem.objects.get().quantity == 4


def test_a_line_cannot_grow_past_the_stock(owner):
    product = ProductFactory(stock=3, sku="TEA-1")
    carts.cart_add_item(owner=owner, product_id=product.pk, quantity=2)

    with pytest.raises(OutOfStock) as exc:
        carts.cart_add_item(owner=owner, product_id=product.pk, quantity=2)

    assert exc.value.detail["items"] == [
        {"product": product.pk, "sku": "TEA-1", "requested": 4, "available": 3}
    ]
    assert "2" in str(exc.value.message) and "3" in str(exc.value.message)


def test_an_out_of_stock_product_cannot_be_added(owner):
    product = ProductFactory(stock=0)

    with pytest.raises(OutOfStock):
        carts.cart_add_item(owner=owner, product_id=product.pk, quantity=1)


def test_an_inactive_product_cannot_be_added(owner):
    product = ProductFactory(is_active=False)

    with pytest.raises(ProductUnavailable):
        carts.cart_add_item(owner=owner, product_id=product.pk, quantity=1)


@pytest.mark.parametrize("product_id", [999999, 0, -3, 2**70, "abc", None])
def test_an_unknown_product_cannot_be_added(owner, product_id):
    with pytest.raises(ProductUnavailable):
        carts.cart_add_item(owner=owner, product_id=product_id, quantity=1)


# --- update and remove ---------------------------------------------------------------------------


def test_updating_sets_the_quantity_and_logs_the_difference(owner, member):
    product = ProductFactory(stock=10)
    item = carts.cart_add_item(owner=owner, product_id=product.pk, quantity=5)

    carts.cart_update_item(owner=owner, item_id=item.pk, quantity=2)

    assert CartItem.objects.get().quantity == 2
    assert _events(Event.Type.CART_REMOVE) == [(member.pk, "", product.pk, 3)]


def test_updating_past_the_stock_is_refused(owner):
    item = carts.cart_add_item(owner=owner, product_id=ProductFactory(stock=3).pk, quantity=1)

    with pytest.raises(OutOfStock):
        carts.cart_update_item(owner=owner, item_id=item.pk, quantity=4)
    assert CartItem.objects.get().quantity == 1


def test_lowering_a_line_whose_stock_shrank_fixes_it(owner):
    product = ProductFactory(stock=5)
    item = carts.cart_add_item(owner=owner, product_id=product.pk, quantity=5)
    product.stock = 2
    product.save()

    carts.cart_update_item(owner=owner, item_id=item.pk, quantity=2)

    view = carts.cart_view(owner=owner)
    assert view.can_checkout


def test_another_members_line_cannot_be_updated_or_removed(owner):
    stranger = CartOwner(user=MemberFactory())
    theirs = carts.cart_add_item(owner=stranger, product_id=ProductFactory().pk, quantity=1)

    with pytest.raises(CartItemNotFound):
        carts.cart_update_item(owner=owner, item_id=theirs.pk, quantity=2)
    with pytest.raises(CartItemNotFound):
        carts.cart_remove_item(owner=owner, item_id=theirs.pk)
    assert CartItem.objects.get().quantity == 1


def test_a_visitor_cannot_touch_a_members_line():
    theirs = carts.cart_add_item(
        owner=CartOwner(user=MemberFactory()), product_id=ProductFactory().pk, quantity=1
    )

    with pytest.raises(CartItemNotFound):
        carts.cart_remove_item(owner=CartOwner(visitor=VISITOR), item_id=theirs.pk)


@pytest.mark.parametrize("item_id", [999999, 0, 2**70, "x", None])
def test_unknown_line_ids_are_not_found(owner, item_id):
    carts.cart_add_item(owner=owner, product_id=ProductFactory().pk, quantity=1)

    with pytest.raises(CartItemNotFound):
        carts.cart_remove_item(owner=owner, item_id=item_id)


def test_removing_deletes_the_line_and_logs_its_quantity(owner, member):
    product = ProductFactory()
    item = carts.cart_add_item(owner=owner, product_id=product.pk, quantity=3)

    carts.cart_remove_item(owner=owner, item_id=item.pk)

    assert not CartItem.objects.exists()
    assert _events(Event.Type.CART_REMOVE) == [(member.pk, "", product.pk, 3)]


# --- merge at login ------------------------------------------------------------------------------


def _visitor_add(product, quantity):
    carts.cart_add_item(owner=CartOwner(visitor=VISITOR), product_id=product.pk, quantity=quantity)


def test_merge_moves_the_visitors_lines_and_deletes_their_cart(owner, member):
    product = ProductFactory()
    _visitor_add(product, 2)

    carts.cart_merge(visitor=VISITOR, user=member)

    assert list(CartItem.objects.values_list("cart__user_id", "product_id", "quantity")) == [
        (member.pk, product.pk, 2)
    ]
    assert not Cart.objects.filter(visitor_key=VISITOR).exists()


def test_merge_adds_quantities_capped_at_the_stock(owner, member):
    product = ProductFactory(stock=6)
    carts.cart_add_item(owner=owner, product_id=product.pk, quantity=4)
    _visitor_add(product, 4)

    carts.cart_merge(visitor=VISITOR, user=member)

    assert CartItem.objects.get().quantity == 6


@override_settings(CART_MAX_QUANTITY=5)
def test_merge_caps_quantities_at_the_per_product_limit(owner, member):
    product = ProductFactory(stock=100)
    carts.cart_add_item(owner=owner, product_id=product.pk, quantity=3)
    _visitor_add(product, 4)

    carts.cart_merge(visitor=VISITOR, user=member)

    assert CartItem.objects.get().quantity == 5


def test_merge_keeps_a_line_that_became_unavailable_flagged(owner, member):
    product = ProductFactory(stock=3)
    _visitor_add(product, 2)
    product.stock = 0
    product.save()

    carts.cart_merge(visitor=VISITOR, user=member)

    view = carts.cart_view(owner=owner)
    assert [line.problem for line in view.lines] == [Problem.OUT_OF_STOCK]


def test_merge_without_a_visitor_cart_changes_nothing(member):
    assert carts.cart_merge(visitor=VISITOR, user=member) is None
    assert not Cart.objects.exists()


# --- the priced view -----------------------------------------------------------------------------


@override_settings(SHIPPING_FEE="10.00", FREE_SHIPPING_THRESHOLD="99.00")
def test_cart_view_prices_the_lines_from_current_product_prices(owner):
    product = ProductFactory(price=Decimal("20.00"), stock=10)
    carts.cart_add_item(owner=owner, product_id=product.pk, quantity=2)
    product.price = Decimal("25.00")
    product.save()

    view = carts.cart_view(owner=owner)

    assert view.priced.subtotal == Decimal("50.00")
    assert view.priced.total == Decimal("60.00")
    assert view.item_count == 2 and view.can_checkout


def test_unavailable_lines_are_flagged_left_out_of_totals_and_block_checkout(owner):
    fine = ProductFactory(price=Decimal("10.00"), stock=10)
    gone = ProductFactory(price=Decimal("30.00"), stock=10)
    empty = ProductFactory(price=Decimal("40.00"), stock=10)
    short = ProductFactory(price=Decimal("5.00"), stock=10)
    for product, quantity in ((fine, 1), (gone, 1), (empty, 1), (short, 4)):
        carts.cart_add_item(owner=owner, product_id=product.pk, quantity=quantity)
    gone.is_active = False
    gone.save()
    empty.stock = 0
    empty.save()
    short.stock = 3
    short.save()

    view = carts.cart_view(owner=owner)

    assert [line.problem for line in view.lines] == [
        "",
        Problem.INACTIVE,
        Problem.OUT_OF_STOCK,
        Problem.INSUFFICIENT_STOCK,
    ]
    assert [line.priced is not None for line in view.lines] == [True, False, False, True]
    assert view.priced.subtotal == Decimal("30.00")
    assert not view.can_checkout
    assert "3" in view.lines[3].problem_message


def test_cart_count_sums_the_pieces(owner):
    carts.cart_add_item(owner=owner, product_id=ProductFactory().pk, quantity=2)
    carts.cart_add_item(owner=owner, product_id=ProductFactory().pk, quantity=3)

    assert carts.cart_count(owner=owner) == 5
    assert carts.cart_count(owner=CartOwner()) == 0
