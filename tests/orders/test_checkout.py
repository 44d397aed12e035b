"""Checkout service (order_place): snapshots, stock, cart, signals, idempotency, errors."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.exceptions import AddressNotFound
from orders import checkout as checkouts
from orders import signals
from orders.cart import CartOwner, cart_add_item
from orders.checkout import AddressRequired, InvalidIdempotencyKey, order_place
from orders.exceptions import CartEmpty, OutOfStock, ProductUnavailable
from orders.models import CartItem, Order, OrderItem, OrderStatusChange
from tests.factories import AddressFactory, MemberFactory, OrderFactory, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def member():
    return MemberFactory(email="alice@example.com")


@pytest.fixture
def address(member):
    return AddressFactory(
        user=member,
        recipient_name="Li Lei",
        phone="13800000000",
        city="Hangzhou",
        line1="1 Wensan Road",
        postal_code="310000",
        is_default=True,
    )


@pytest.fixture
def settings_shop(settings):
    settings.SHIPPING_FEE = "10.00"
    settings.FREE_SHIPPING_THRESHOLD = "99.00"
    settings.ORDER_PAYMENT_TIMEOUT_MINUTES = 30
    return settings


def _add(member, product, quantity=1):
    return cart_add_item(owner=CartOwner(user=member), product_id=product.pk, quantity=quantity)


def test_placing_an_order_snapshots_the_lines_and_totals(member, address, settings_shop):
    tea = ProductFactory(name="Green tea", sku="TEA-1", price=Decimal("19.90"), stock=10)
    cup = ProductFactory(name="Cup", sku="CUP-1", price=Decimal("5.00"), stock=10)
    _add(member, tea, 2)
    _add(member, cup, 1)

    order = order_place(user=member, address_id=address.pk, note=" ring twice ")

    assert order.status == Order.Status.PENDING_PAYMENT and order.replayed is False
    assert (order.subtotal, order.shipping_fee, order.total) == (
        Decimal("44.80"),
        Decimal("10.00"),
        Decimal("54.80"),
    )
    assert order.note == "ring twice"
    assert list(
        OrderItem.objects.filter(order=order).values_list(
            "product_id", "product_name", "sku", "unit_price", "quantity", "line_total", "discount"
        )
    ) == [
        (tea.pk, "Green tea", "TEA-1", Decimal("19.90"), 2, Decimal("39.80"), Decimal("0.00")),
        (cup.pk, "Cup", "CUP-1", Decimal("5.00"), 1, Decimal("5.00"), Decimal("0.00")),
    ]


def test_the_order_keeps_its_snapshot_when_the_product_changes(member, address):
    product = ProductFactory(name="Old name", price=Decimal("10.00"))
    _add(member, product)
    order = order_place(user=member, address_id=address.pk)

    product.name, product.price = "New name", Decimal("99.00")
    product.save()

    item = order.items.get()
    assert (item.product_name, item.unit_price) == ("Old name", Decimal("10.00"))


def test_prices_are_re_read_at_checkout(member, address):
    product = ProductFactory(price=Decimal("10.00"))
    _add(member, product, 2)
    product.price = Decimal("12.00")
    product.save()

    order = order_place(user=member, address_id=address.pk)

    assert order.items.get().unit_price == Decimal("12.00")
    assert order.subtotal == Decimal("24.00")


def test_stock_is_taken_and_the_cart_emptied(member, address):
    product = ProductFactory(stock=5)
    _add(member, product, 3)

    order_place(user=member, address_id=address.pk)

    product.refresh_from_db()
    assert product.stock == 2
    assert not CartItem.objects.exists()


def test_the_address_is_copied_onto_the_order(member, address):
    _add(member, ProductFactory())

    order = order_place(user=member, address_id=address.pk)
    address.city = "Shanghai"
    address.save()
    order.refresh_from_db()

    assert (order.recipient_name, order.phone, order.city, order.line1, order.postal_code) == (
        "Li Lei",
        "13800000000",
        "Hangzhou",
        "1 Wensan Road",
        "310000",
    )


def test_a_new_address_can_be_given_and_saved_to_the_address_book(member):
    _add(member, ProductFactory())
    data = {
        "recipient_name": "Han Meimei",
        "phone": "13912345678",
        "country": "CN",
        "city": "Shanghai",
        "line1": "100 Nanjing Road",
        "postal_code": "200001",
    }

    order = order_place(user=member, address=data, save_address=True)

    assert order.recipient_name == "Han Meimei"
    assert member.addresses.get().line1 == "100 Nanjing Road"


def test_an_invalid_new_address_places_nothing(member):
    from django.core.exceptions import ValidationError

    product = ProductFactory(stock=3)
    _add(member, product)

    with pytest.raises(ValidationError):
        order_place(
            user=member, address={"recipient_name": "X", "phone": "nope"}, save_address=True
        )

    product.refresh_from_db()
    assert product.stock == 3 and CartItem.objects.exists() and not Order.objects.exists()


def test_the_first_status_change_and_payment_deadline_are_recorded(member, address, settings_shop):
    _add(member, ProductFactory())
    before = timezone.now()

    order = order_place(user=member, address_id=address.pk)

    change = OrderStatusChange.objects.get(order=order)
    assert (change.from_status, change.to_status, change.changed_by_id) == (
        "",
        "pending_payment",
        member.pk,
    )
    assert before + timedelta(minutes=30) <= order.payment_due_at
    assert order.payment_due_at <= timezone.now() + timedelta(minutes=30)


def test_the_order_number_is_the_date_and_eight_digits(member, address):
    _add(member, ProductFactory())

    order = order_place(user=member, address_id=address.pk)

    assert re.fullmatch(rf"{timezone.localdate():%Y%m%d}\d{{8}}", order.number)


def test_a_taken_order_number_is_drawn_again(member, address, monkeypatch):
    taken = OrderFactory(number="2025010112345678")
    numbers = iter([taken.number, "2025010187654321"])
    monkeypatch.setattr(checkouts, "order_number_make", lambda: next(numbers))
    _add(member, ProductFactory())

    order = order_place(user=member, address_id=address.pk)

    assert order.number == "2025010187654321"


def test_order_placed_is_sent_only_after_commit(
    member, address, django_capture_on_commit_callbacks
):
    received = []

    def receiver(sender, order_id, user_id, **kwargs):
        received.append((order_id, user_id))

    signals.order_placed.connect(receiver)
    try:
        _add(member, ProductFactory())
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            order = order_place(user=member, address_id=address.pk)
        assert received == []
        for callback in callbacks:
            callback()
    finally:
        signals.order_placed.disconnect(receiver)

    assert received == [(order.pk, member.pk)]


# --- refusals -------------------------------------------------------------------------------------


def test_an_empty_cart_cannot_be_checked_out(member, address):
    with pytest.raises(CartEmpty):
        order_place(user=member, address_id=address.pk)


def test_another_members_address_is_not_found(member):
    _add(member, ProductFactory())
    theirs = AddressFactory(user=MemberFactory())

    with pytest.raises(AddressNotFound):
        order_place(user=member, address_id=theirs.pk)
    assert not Order.objects.exists()


def test_an_address_is_required(member):
    _add(member, ProductFactory())

    with pytest.raises(AddressRequired):
        order_place(user=member)


def test_stock_that_shrank_since_the_cart_is_a_conflict_with_details(member, address):
    short = ProductFactory(stock=5, sku="SHORT", name="Short")
    fine = ProductFactory(stock=5)
    _add(member, short, 4)
    _add(member, fine, 1)
    short.stock = 2
    short.save()

    with pytest.raises(OutOfStock) as exc:
        order_place(user=member, address_id=address.pk)

    assert exc.value.detail == {
        "items": [
            {"product": short.pk, "sku": "SHORT", "name": "Short", "requested": 4, "available": 2}
        ]
    }
    fine.refresh_from_db()
    assert fine.stock == 5 and not Order.objects.exists() and CartItem.objects.count() == 2


def test_an_inactive_product_blocks_checkout(member, address):
    product = ProductFactory(stock=5)
    _add(member, product)
    product.is_active = False
    product.save()

    with pytest.raises(ProductUnavailable) as exc:
        order_place(user=member, address_id=address.pk)

    assert exc.value.detail["items"][0]["product"] == product.pk


@pytest.mark.parametrize("key", ["k" * 65, "bad\x00key", "tab\tkey"])
def test_an_invalid_idempotency_key_is_refused(member, address, key):
    _add(member, ProductFactory())

    with pytest.raises(InvalidIdempotencyKey):
        order_place(user=member, address_id=address.pk, idempotency_key=key)


# --- idempotency ----------------------------------------------------------------------------------


def test_the_same_key_returns_the_same_order_without_taking_stock_twice(member, address):
    product = ProductFactory(stock=10)
    _add(member, product, 2)
    first = order_place(user=member, address_id=address.pk, idempotency_key="abc-123")
    _add(member, product, 1)

    again = order_place(user=member, address_id=address.pk, idempotency_key="abc-123")

    assert again.pk == first.pk and again.replayed is True
    assert Order.objects.count() == 1
    product.refresh_from_db()
    assert product.stock == 8
    assert CartItem.objects.get().quantity == 1  # the new cart is left alone


def test_the_same_key_from_another_member_is_a_different_checkout(member, address):
    other = MemberFactory()
    other_address = AddressFactory(user=other)
    _add(member, ProductFactory())
    _add(other, ProductFactory())

    mine = order_place(user=member, address_id=address.pk, idempotency_key="same")
    theirs = order_place(user=other, address_id=other_address.pk, idempotency_key="same")

    assert mine.pk != theirs.pk


def test_without_a_key_each_checkout_is_new(member, address):
    product = ProductFactory(stock=10)
    _add(member, product)
    order_place(user=member, address_id=address.pk)
    _add(member, product)

    order_place(user=member, address_id=address.pk, idempotency_key="   ")

    assert Order.objects.count() == 2
