"""Beat tasks: expiry of unpaid orders and auto-completion of delivered ones."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from orders import services
from orders.models import Order, OrderStatusChange
from orders.tasks import auto_complete_orders, expire_unpaid_orders
from tests.factories import ProductFactory, order_with_items

pytestmark = pytest.mark.django_db

S = Order.Status


def _pending(minutes_overdue: float, product=None):
    return order_with_items(
        products=[product or ProductFactory(stock=5)],
        quantities=[2],
        payment_due_at=timezone.now() - timedelta(minutes=minutes_overdue),
    )


def _delivered(days_ago: float):
    order = order_with_items(products=[ProductFactory()], status=S.DELIVERED)
    Order.objects.filter(pk=order.pk).update(delivered_at=timezone.now() - timedelta(days=days_ago))
    return order


def test_task_names_match_the_beat_schedule():
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}

    assert expire_unpaid_orders.name in scheduled
    assert auto_complete_orders.name in scheduled
    assert expire_unpaid_orders.name == "orders.tasks.expire_unpaid_orders"
    assert auto_complete_orders.name == "orders.tasks.auto_complete_orders"


def test_tasks_have_soft_and_hard_time_limits():
    for task in (expire_unpaid_orders, auto_complete_orders):
        assert 0 < task.soft_time_limit < task.time_limit


def test_expiry_cancels_only_overdue_unpaid_orders():
    product = ProductFactory(stock=5)
    overdue = _pending(1, product)
    not_due = _pending(-5, product)
    paid = order_with_items(
        products=[product], status=S.PAID, payment_due_at=timezone.now() - timedelta(hours=1)
    )

    count = expire_unpaid_orders.delay().get()

    product.refresh_from_db()
    assert count == 1
    assert Order.objects.get(pk=overdue.pk).status == S.CANCELLED
    assert Order.objects.get(pk=not_due.pk).status == S.PENDING_PAYMENT
    assert Order.objects.get(pk=paid.pk).status == S.PAID
    assert product.stock == 7


def test_expiry_run_twice_changes_each_order_once():
    product = ProductFactory(stock=0)
    orders = [_pending(10, product) for _ in range(3)]

    first = expire_unpaid_orders.delay().get()
    second = expire_unpaid_orders.delay().get()

    product.refresh_from_db()
    assert (first, second) == (3, 0)
    assert product.stock == 6
    assert OrderStatusChange.objects.filter(order__in=orders).count() == 3


def test_expiry_walks_every_batch():
    orders = [_pending(1) for _ in range(5)]

    count = expire_unpaid_orders.delay(batch_size=2).get()

    assert count == 5
    assert set(
        Order.objects.filter(pk__in=[o.pk for o in orders]).values_list("status", flat=True)
    ) == {S.CANCELLED}


def test_one_failing_order_does_not_stop_the_run(monkeypatch):
    failing, fine = _pending(1), _pending(1)
    real = services.order_expire

    def flaky(*, order_id, now=None):
        if order_id == failing.pk:
            raise RuntimeError("boom")
        return real(order_id=order_id, now=now)

    monkeypatch.setattr(services, "order_expire", flaky)

    count = expire_unpaid_orders.delay().get()

    assert count == 1
    assert Order.objects.get(pk=failing.pk).status == S.PENDING_PAYMENT
    assert Order.objects.get(pk=fine.pk).status == S.CANCELLED


def test_auto_complete_after_the_configured_days_and_not_before(settings):
    settings.ORDER_AUTO_COMPLETE_DAYS = 7
    due = _delivered(7.01)
    early = _delivered(6.9)

    count = auto_complete_orders.delay().get()

    assert count == 1
    assert Order.objects.get(pk=due.pk).status == S.COMPLETED
    assert Order.objects.get(pk=early.pk).status == S.DELIVERED


def test_auto_complete_follows_the_setting(settings):
    settings.ORDER_AUTO_COMPLETE_DAYS = 2
    order = _delivered(2.5)

    assert auto_complete_orders.delay().get() == 1
    assert Order.objects.get(pk=order.pk).status == S.COMPLETED


def test_auto_complete_run_twice_completes_once():
    order = _delivered(30)

    results = [auto_complete_orders.delay().get() for _ in range(2)]

    assert results == [1, 0]
    assert OrderStatusChange.objects.filter(order=order).count() == 1
