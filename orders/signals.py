"""Signals other apps react to; each is sent after the transaction commits.

Receivers (in promotions, membership, recommend) should only enqueue a Celery
task. Every signal is sent with ``order_id`` and ``user_id``;
``order_refunded`` also carries ``refund_id`` and ``amount`` (Decimal).
"""

from django.dispatch import Signal

order_placed = Signal()
order_paid = Signal()
order_completed = Signal()
order_cancelled = Signal()
order_refunded = Signal()
