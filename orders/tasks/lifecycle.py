"""Celery tasks: unpaid-order expiry and auto-completion (Celery beat, see CELERY_BEAT_SCHEDULE).

Each run selects due order ids in batches (ascending id, so an order that
keeps failing cannot stall the run) and calls one idempotent service per
order under that order's row lock. Running a task twice, or two runs at once,
changes each order at most once. An order that fails is logged and left for
the next run; when the soft time limit strikes, the run stops between orders
and the next run carries on.
"""

from __future__ import annotations

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.utils import timezone

from orders import selectors, services

__all__ = ["auto_complete_orders", "expire_unpaid_orders"]

logger = logging.getLogger(__name__)

BATCH_SIZE = 500


def _run(select_ids, service, *, label: str, batch_size: int) -> int:
    now = timezone.now()
    changed = 0
    last_id = 0
    try:
        while True:
            ids = select_ids(now=now, after_id=last_id, limit=batch_size)
            if not ids:
                break
            for order_id in ids:
                try:
                    changed += bool(service(order_id=order_id, now=now))
                except SoftTimeLimitExceeded:
                    raise
                except Exception:
                    logger.exception("%s: order %s failed; left for the next run", label, order_id)
            last_id = ids[-1]
    except SoftTimeLimitExceeded:
        logger.warning("%s: soft time limit after %s orders; the next run goes on", label, changed)
    if changed:
        logger.info("%s: %s orders", label, changed)
    return changed


@shared_task(name="orders.tasks.expire_unpaid_orders", soft_time_limit=50, time_limit=58)
def expire_unpaid_orders(batch_size: int = BATCH_SIZE) -> int:
    """Cancel unpaid orders past ``payment_due_at`` (stock restored); returns how many."""
    return _run(
        selectors.order_ids_to_expire,
        services.order_expire,
        label="expire unpaid orders",
        batch_size=batch_size,
    )


@shared_task(name="orders.tasks.auto_complete_orders", soft_time_limit=900, time_limit=960)
def auto_complete_orders(batch_size: int = BATCH_SIZE) -> int:
    """Complete orders delivered ``ORDER_AUTO_COMPLETE_DAYS`` ago or more; returns how many."""
    return _run(
        selectors.order_ids_to_auto_complete,
        services.order_complete_delivered,
        label="auto-complete orders",
        batch_size=batch_size,
    )
