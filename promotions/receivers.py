"""Reactions to orders' signals (sent after commit); each receiver only enqueues a task."""

from django.db import transaction
from django.dispatch import receiver

from orders.signals import order_cancelled, order_completed, order_refunded
from promotions import tasks


@receiver(order_completed, dispatch_uid="promotions.earn_points")
def on_order_completed(sender, order_id, user_id, **kwargs) -> None:
    transaction.on_commit(lambda: tasks.earn_points.delay(order_id))


@receiver(order_cancelled, dispatch_uid="promotions.order_cancelled")
def on_order_cancelled(sender, order_id, user_id, **kwargs) -> None:
    transaction.on_commit(lambda: tasks.order_cancelled.delay(order_id))


@receiver(order_refunded, dispatch_uid="promotions.order_refunded")
def on_order_refunded(sender, order_id, user_id, refund_id, **kwargs) -> None:
    transaction.on_commit(lambda: tasks.order_refunded.delay(order_id, refund_id))
