"""Celery tasks of promotions: reactions to orders and the points expiry (beat).

Each takes ids, calls one idempotent service (the ledger's unique ``ref``
makes a retry or a second delivery add nothing) and has time limits.
"""

from __future__ import annotations

import logging

from celery import shared_task

from promotions import services

logger = logging.getLogger(__name__)


@shared_task(name="promotions.tasks.earn_points", soft_time_limit=30, time_limit=40)
def earn_points(order_id: int) -> int:
    """Points for a completed order; returns the points credited (0 if already done)."""
    entry = services.points_earn_for_order(order_id=order_id)
    return entry.amount if entry else 0


@shared_task(name="promotions.tasks.order_cancelled", soft_time_limit=30, time_limit=40)
def order_cancelled(order_id: int) -> dict:
    """Give back the points, promotion uses and (by policy) coupon of a cancelled order."""
    return services.order_cancelled_returns(order_id=order_id)


@shared_task(name="promotions.tasks.order_refunded", soft_time_limit=30, time_limit=40)
def order_refunded(order_id: int, refund_id: int) -> dict:
    """Reverse earned points and return spent ones pro rata to a refund."""
    return services.order_refunded_returns(order_id=order_id, refund_id=refund_id)


@shared_task(name="promotions.tasks.expire_points", soft_time_limit=600, time_limit=660)
def expire_points() -> dict:
    """Expire every lot past its date (hourly by beat); idempotent."""
    result = services.points_expire_due()
    if result["points"]:
        logger.info("expired %s points of %s members", result["points"], result["members"])
    return result


@shared_task(name="promotions.tasks.issue_to_segment", soft_time_limit=300, time_limit=330)
def issue_to_segment(campaign_id: int, segment_code: str, batch: str = "") -> int:
    """Put a coupon of the campaign in the wallet of each member of a segment."""
    from promotions.audience import segment_members

    return services.coupons_issue(
        campaign_id=campaign_id, user_ids=segment_members(segment_code), batch=batch
    )
