"""Reactions to orders' signals (sent after commit; each receiver only enqueues a task)
and to the accounts' privacy signals (export, erasure in the deletion transaction)."""

from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from accounts.signals import user_data_erase, user_data_export
from catalog.models import Category
from orders.signals import order_cancelled, order_completed, order_refunded
from promotions import selectors, tasks
from promotions.models import Coupon, PointsEntry, PointsExchange, Promotion


@receiver(order_completed, dispatch_uid="promotions.earn_points")
def on_order_completed(sender, order_id, user_id, **kwargs) -> None:
    transaction.on_commit(lambda: tasks.earn_points.delay(order_id))


@receiver(order_cancelled, dispatch_uid="promotions.order_cancelled")
def on_order_cancelled(sender, order_id, user_id, **kwargs) -> None:
    transaction.on_commit(lambda: tasks.order_cancelled.delay(order_id))


@receiver(order_refunded, dispatch_uid="promotions.order_refunded")
def on_order_refunded(sender, order_id, user_id, refund_id, **kwargs) -> None:
    transaction.on_commit(lambda: tasks.order_refunded.delay(order_id, refund_id))


@receiver(user_data_export, dispatch_uid="promotions.export_member_data")
def export_member_data(sender, user, **kwargs) -> dict:
    """The member's points ledger, coupons and exchanges for their data export."""
    entries = PointsEntry.objects.filter(user=user).select_related("order").order_by("created_at")
    coupons = Coupon.objects.filter(owner=user).select_related("campaign").order_by("created_at")
    exchanges = PointsExchange.objects.filter(user=user).select_related("item")
    return {
        "points": [
            {
                "at": e.created_at,
                "kind": e.kind,
                "points": e.amount,
                "balance_after": e.balance_after,
                "reason": e.reason,
                "order": e.order.number if e.order_id else None,
                "expires_at": e.expires_at,
            }
            for e in entries
        ],
        "coupons": [
            {
                "code": c.code,
                "campaign": c.campaign.name,
                "used": c.used_count,
                "since": c.claimed_at,
                "expires_at": c.expires_at,
            }
            for c in coupons
        ],
        "points_exchanges": [
            {"item": x.item.name, "points": x.points, "status": x.status, "at": x.created_at}
            for x in exchanges.order_by("created_at")
        ],
    }


@receiver(user_data_erase, dispatch_uid="promotions.erase_member_data")
def erase_member_data(sender, user, **kwargs) -> None:
    """Account deletion: the gift addresses are blanked and unused wallet coupons deleted;
    the points ledger, redemptions and order discounts stay (accounting, reports)."""
    PointsExchange.objects.filter(user=user).update(ship_to="")
    Coupon.objects.filter(owner=user, used_count=0, redemptions__isnull=True).delete()


# --- the cached live promotion set (promotions.selectors.promotions_live_cached) ------------


def _live_changed(sender, **kwargs) -> None:
    selectors.promotions_live_invalidate()


for _signal in (post_save, post_delete):
    _signal.connect(_live_changed, sender=Promotion, dispatch_uid=f"promotions.live.{_signal}")
    # a category moved in the tree changes what "this category and below" means
    _signal.connect(_live_changed, sender=Category, dispatch_uid=f"promotions.cat.{_signal}")
for _through in (
    Promotion.categories.through,
    Promotion.brands.through,
    Promotion.products.through,
):
    m2m_changed.connect(_live_changed, sender=_through, dispatch_uid=f"promotions.live.{_through}")
