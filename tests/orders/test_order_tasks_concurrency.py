"""Expiry racing a payment, and two expiry runs at once (PostgreSQL, real threads)."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from orders import lifecycle
from orders.exceptions import TransitionNotAllowed
from orders.models import Order, OrderStatusChange
from orders.tasks import expire_unpaid_orders
from tests.factories import ProductFactory, order_with_items
from tests.orders.threads import run_in_threads

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

S = Order.Status


def _pay(order_id):
    """What paying does to the order: under its row lock, pending -> paid."""
    return lifecycle.order_transition(
        order_id=order_id, to_status=S.PAID, expect_from=frozenset({S.PENDING_PAYMENT})
    )


def _after(seconds, function):
    def delayed():
        time.sleep(seconds)
        return function()

    return delayed


# Who reaches the order's row lock first: both at once, or one of them a moment later.
HEAD_STARTS = [(0, 0), (0, 0), (0, 0.05), (0.05, 0), (0, 0.01), (0.01, 0)]


@pytest.mark.parametrize("expire_delay,pay_delay", HEAD_STARTS)
def test_expiry_racing_a_payment_ends_in_exactly_one_of_paid_or_cancelled(expire_delay, pay_delay):
    product = ProductFactory(stock=0)
    order = order_with_items(
        products=[product],
        quantities=[2],
        payment_due_at=timezone.now() - timedelta(seconds=1),
    )

    _results, errors = run_in_threads(
        [_after(expire_delay, expire_unpaid_orders), _after(pay_delay, lambda: _pay(order.pk))]
    )

    order.refresh_from_db()
    product.refresh_from_db()
    changes = list(
        OrderStatusChange.objects.filter(order=order).values_list("to_status", flat=True)
    )
    assert changes == [order.status]
    if order.status == S.PAID:
        assert errors == [] and product.stock == 0
    else:
        assert order.status == S.CANCELLED
        assert len(errors) == 1 and isinstance(errors[0], TransitionNotAllowed)
        assert product.stock == 2


def test_two_expiry_runs_at_once_cancel_each_order_once():
    product = ProductFactory(stock=0)
    orders = [
        order_with_items(products=[product], payment_due_at=timezone.now() - timedelta(minutes=1))
        for _ in range(10)
    ]

    results, errors = run_in_threads([lambda: expire_unpaid_orders()] * 3)

    product.refresh_from_db()
    assert errors == []
    assert sum(results) == 10
    assert product.stock == 10
    assert OrderStatusChange.objects.filter(order__in=orders).count() == 10
