"""Concurrent refunds never refund more than was paid (PostgreSQL, real threads)."""

from decimal import Decimal

import pytest

from orders import refunds
from orders.exceptions import TransitionNotAllowed
from orders.models import Order, OrderItem, Refund
from tests.factories import ProductFactory, order_with_items
from tests.orders.threads import run_in_threads

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _order(*quantities):
    return order_with_items(
        products=[ProductFactory(price=Decimal("10.00")) for _ in quantities],
        quantities=list(quantities),
        status=Order.Status.DELIVERED,
        shipping_fee=Decimal("8.00"),
    )


def test_concurrent_unit_refunds_of_one_line_stop_at_its_quantity():
    order = _order(3, 1)
    item = order.items.order_by("pk").first()

    results, errors = run_in_threads(
        [lambda: refunds.order_refund(order_id=order.pk, lines=[(item.pk, 1)]) for _ in range(8)]
    )

    item.refresh_from_db()
    order.refresh_from_db()
    assert len(results) == 3
    assert len(errors) == 5
    assert all(isinstance(e, refunds.RefundExceedsRemaining) for e in errors)
    assert (item.refunded_quantity, item.refunded_amount) == (3, Decimal("30.00"))
    assert order.refunded_total == Decimal("30.00")
    assert sum(r.amount for r in Refund.objects.filter(order=order)) == Decimal("30.00")
    assert order.status == Order.Status.DELIVERED  # the other line is not refunded


def test_concurrent_whole_refunds_refund_once():
    order = _order(2)

    results, errors = run_in_threads(
        [lambda: refunds.order_refund(order_id=order.pk) for _ in range(6)]
    )

    order.refresh_from_db()
    assert len(results) == 1
    assert len(errors) == 5
    assert all(isinstance(e, TransitionNotAllowed) for e in errors)
    assert order.refunded_total == order.total == Decimal("28.00")
    assert Refund.objects.filter(order=order).count() == 1
    assert OrderItem.objects.get(order=order).refunded_quantity == 2


def test_whole_and_partial_refunds_racing_never_exceed_the_total():
    order = _order(4)
    item = order.items.get()
    functions = [lambda: refunds.order_refund(order_id=order.pk)] + [
        lambda: refunds.order_refund(order_id=order.pk, lines=[(item.pk, 1)]) for _ in range(5)
    ]

    results, _errors = run_in_threads(functions)

    order.refresh_from_db()
    item.refresh_from_db()
    assert order.refunded_total == sum(r.amount for r in results)
    assert order.refunded_total <= order.total
    assert item.refunded_quantity == 4 and item.refunded_amount == Decimal("40.00")
    assert order.status == Order.Status.REFUNDED
