"""Checkout, payment and cart under concurrent requests (PostgreSQL, real threads)."""

import threading

import pytest
from django.db import connection

from catalog.models import Product
from orders.cart import CartOwner, cart_add_item
from orders.checkout import order_place
from orders.exceptions import OutOfStock, TransitionNotAllowed
from orders.models import CartItem, Order, OrderItem, Payment
from orders.paying import order_pay
from tests.factories import AddressFactory, MemberFactory, ProductFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _run_in_threads(functions):
    """Start every function at once; returns (results, errors) in call order."""
    barrier = threading.Barrier(len(functions))
    results: list = [None] * len(functions)
    errors: list = [None] * len(functions)

    def worker(index, function):
        try:
            barrier.wait()
            results[index] = function()
        except Exception as exc:  # inspected by the test
            errors[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, f)) for i, f in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, errors


def _buyer(product, quantity=1):
    member = MemberFactory()
    address = AddressFactory(user=member)
    cart_add_item(owner=CartOwner(user=member), product_id=product.pk, quantity=quantity)
    return member, address


def test_twenty_buyers_of_the_last_five_items_make_exactly_five_orders():
    product = ProductFactory(stock=20)
    buyers = [_buyer(product) for _ in range(20)]
    Product.objects.filter(pk=product.pk).update(stock=5)

    results, errors = _run_in_threads(
        [lambda m=m, a=a: order_place(user=m, address_id=a.pk) for m, a in buyers]
    )

    placed = [r for r in results if r is not None]
    assert len(placed) == 5
    assert all(isinstance(e, OutOfStock) for e in errors if e is not None)
    assert sum(e is not None for e in errors) == 15
    product.refresh_from_db()
    assert product.stock == 0
    assert Order.objects.count() == 5
    assert OrderItem.objects.filter(product=product).count() == 5
    assert CartItem.objects.count() == 15  # the losers keep their carts


def test_buyers_of_several_products_never_deadlock_or_oversell():
    first, second = ProductFactory(stock=40), ProductFactory(stock=40)
    buyers = []
    for i in range(12):
        member, address = _buyer(first if i % 2 else second)
        other = second if i % 2 else first
        cart_add_item(owner=CartOwner(user=member), product_id=other.pk, quantity=1)
        buyers.append((member, address))
    Product.objects.filter(pk__in=[first.pk, second.pk]).update(stock=7)

    results, errors = _run_in_threads(
        [lambda m=m, a=a: order_place(user=m, address_id=a.pk) for m, a in buyers]
    )

    assert all(e is None or isinstance(e, OutOfStock) for e in errors)
    assert sum(r is not None for r in results) == 7
    assert set(Product.objects.values_list("stock", flat=True)) == {0}


def test_concurrent_checkouts_with_the_same_key_make_one_order():
    product = ProductFactory(stock=10)
    member, address = _buyer(product, quantity=2)

    results, errors = _run_in_threads(
        [
            lambda: order_place(user=member, address_id=address.pk, idempotency_key="tap-tap")
            for _ in range(8)
        ]
    )

    assert errors == [None] * 8
    assert len({order.pk for order in results}) == 1
    assert sum(not order.replayed for order in results) == 1
    assert Order.objects.count() == 1
    product.refresh_from_db()
    assert product.stock == 8


def test_concurrent_payments_of_one_order_charge_once():
    product = ProductFactory(stock=10)
    member, address = _buyer(product)
    order = order_place(user=member, address_id=address.pk)

    results, errors = _run_in_threads(
        [lambda: order_pay(order_id=order.pk, user=member) for _ in range(6)]
    )

    assert sum(r is not None for r in results) == 1
    assert all(isinstance(e, TransitionNotAllowed) for e in errors if e is not None)
    assert Payment.objects.filter(order=order, status="succeeded").count() == 1
    assert Payment.objects.filter(order=order).count() == 1


def test_concurrent_adds_to_one_cart_lose_no_quantity():
    product = ProductFactory(stock=100)
    member = MemberFactory()
    owner = CartOwner(user=member)

    results, errors = _run_in_threads(
        [lambda: cart_add_item(owner=owner, product_id=product.pk, quantity=1) for _ in range(10)]
    )

    assert errors == [None] * 10
    assert CartItem.objects.get(cart__user=member).quantity == 10
