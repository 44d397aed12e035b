"""Tier evaluation (会员等级): qualification, upgrades, periodic reviews and rebuilds.

Policy
------
* A member qualifies for a tier when, over the last ``MEMBERSHIP_QUALIFYING_DAYS``
  (365) days, their completed orders' spend (total minus refunds) reaches the tier's
  ``min_spend`` and/or their completed orders reach ``min_orders`` (the tier's
  ``qualify_rule``), and — when the tier asks for points and
  ``MEMBERSHIP_POINTS_EARNED_PROVIDER`` is set — the points earned in that window
  reach ``min_points``. Every member qualifies for the entry tier (lowest rank).
* **Upgrade at once**: ``tier_evaluate`` (run after each completed order) moves the
  member up to the highest tier they qualify for.
* **Downgrade only at review**: each membership has ``review_at`` (``since`` +
  ``MEMBERSHIP_REVIEW_DAYS``). ``tiers_review_due`` handles the memberships whose
  review date is at least ``MEMBERSHIP_REVIEW_GRACE_DAYS`` past: the member moves to
  the tier they qualify for then (down, or up), and the next review is set a
  period later. A refund never moves a tier by itself.
* Every change is a ``TierChange`` row (from, to, reason, the qualifying figures).

All writes lock the member's ``Membership`` row, so a concurrent evaluation and
review cannot both write a change; running a review twice changes nothing the
second time (its review date has moved on).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cache

from django.conf import settings
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.module_loading import import_string

from membership import memo
from membership.models import Membership, Tier, TierChange
from orders.models import Order

ZERO = Decimal("0.00")


def qualifying_days() -> int:
    return int(getattr(settings, "MEMBERSHIP_QUALIFYING_DAYS", 365))


def review_days() -> int:
    return int(getattr(settings, "MEMBERSHIP_REVIEW_DAYS", 365))


def grace_days() -> int:
    return int(getattr(settings, "MEMBERSHIP_REVIEW_GRACE_DAYS", 30))


@cache
def _points_provider(path: str):
    return import_string(path)


def points_earned(user_id: int, since: datetime) -> int | None:
    """Points earned since ``since`` from the configured provider; None without one."""
    path = getattr(settings, "MEMBERSHIP_POINTS_EARNED_PROVIDER", "")
    if not path:
        return None
    return int(_points_provider(path)(user_id, since))


@dataclass(frozen=True)
class Qualifying:
    spend: Decimal
    orders: int
    points: int | None = None


def qualifying_figures(user_id: int, *, at: datetime | None = None) -> Qualifying:
    """The member's completed-order spend and count in the rolling window ending ``at``."""
    at = at or timezone.now()
    since = at - timedelta(days=qualifying_days())
    agg = Order.objects.filter(
        user_id=user_id,
        status=Order.Status.COMPLETED,
        completed_at__gt=since,
        completed_at__lte=at,
    ).aggregate(spend=Sum(F("total") - F("refunded_total")), orders=Sum(1))
    return Qualifying(
        spend=agg["spend"] or ZERO,
        orders=agg["orders"] or 0,
        points=points_earned(user_id, since),
    )


def qualifies(tier: Tier, spend: Decimal, orders: int, points: int | None) -> bool:
    """Does a member with these rolling figures meet ``tier``'s thresholds?"""
    checks = []
    if tier.min_spend > 0:
        checks.append(spend >= tier.min_spend)
    if tier.min_orders > 0:
        checks.append(orders >= tier.min_orders)
    if not checks:
        base = True
    elif tier.qualify_rule == Tier.Rule.ALL:
        base = all(checks)
    else:
        base = any(checks)
    if tier.min_points > 0 and points is not None:
        return base and points >= tier.min_points
    return base


def tier_for(tiers: Sequence[Tier], spend: Decimal, orders: int, points: int | None) -> Tier | None:
    """The highest-ranked of ``tiers`` (rank order) these figures qualify for."""
    best = tiers[0] if tiers else None
    for tier in tiers:
        if qualifies(tier, spend, orders, points):
            best = tier
    return best


def active_tiers() -> list[Tier]:
    return list(Tier.objects.filter(is_active=True).order_by("rank"))


def entry_tier() -> Tier | None:
    return Tier.objects.filter(is_active=True).order_by("rank").first()


def _change(
    membership: Membership,
    to: Tier,
    *,
    reason: str,
    figures: Qualifying,
    now: datetime,
    note: str = "",
) -> TierChange:
    change = TierChange.objects.create(
        user_id=membership.user_id,
        from_tier=membership.tier if membership.pk else None,
        to_tier=to,
        reason=reason,
        note=note[:255],
        qualifying_spend=figures.spend,
        qualifying_orders=figures.orders,
        created_at=now,
    )
    membership.tier = to
    membership.since = now
    membership.review_at = now + timedelta(days=review_days())
    return change


def _locked_membership(user_id: int, now: datetime) -> tuple[Membership | None, bool]:
    """The member's membership row, locked; created in the entry tier when missing."""
    membership = Membership.objects.select_for_update().filter(user_id=user_id).first()
    if membership is not None:
        return membership, False
    entry = entry_tier()
    if entry is None:
        return None, False
    membership, created = Membership.objects.get_or_create(
        user_id=user_id,
        defaults={"tier": entry, "since": now, "review_at": now + timedelta(days=review_days())},
    )
    if created:
        TierChange.objects.create(
            user_id=user_id,
            from_tier=None,
            to_tier=entry,
            reason=TierChange.Reason.JOINED,
            created_at=now,
        )
    else:
        membership = Membership.objects.select_for_update().get(pk=membership.pk)
    return membership, created


def tier_evaluate(
    *, user_id: int, reason: str = TierChange.Reason.QUALIFIED, now: datetime | None = None
) -> TierChange | None:
    """Upgrade the member at once if their rolling figures qualify for a higher tier.

    Never downgrades (that is the review's job). Creates the membership in the entry
    tier when missing. Returns the change written, or None. Idempotent.
    """
    now = now or timezone.now()
    with transaction.atomic():
        membership, _created = _locked_membership(user_id, now)
        if membership is None:
            return None
        figures = qualifying_figures(user_id, at=now)
        target = tier_for(active_tiers(), figures.spend, figures.orders, figures.points)
        change = None
        if target is not None and target.rank > membership.tier.rank:
            change = _change(membership, target, reason=reason, figures=figures, now=now)
        membership.qualifying_spend = figures.spend
        membership.qualifying_orders = figures.orders
        membership.evaluated_at = now
        membership.save()
        return change


def tier_set(*, user_id: int, tier: Tier, note: str = "", now: datetime | None = None):
    """Staff put the member in ``tier`` (reason "staff"); the review date restarts.

    Returns the change written, or None when the member already holds that tier.
    """
    now = now or timezone.now()
    with transaction.atomic():
        membership, _created = _locked_membership(user_id, now)
        if membership is None or membership.tier_id == tier.pk:
            return None
        figures = qualifying_figures(user_id, at=now)
        change = _change(
            membership, tier, reason=TierChange.Reason.STAFF, figures=figures, now=now, note=note
        )
        membership.save()
        return change


def tier_review(*, user_id: int, now: datetime | None = None) -> TierChange | None:
    """Review one membership whose review date (plus grace) has passed.

    Moves the member to the tier they qualify for now (down or up) and sets the next
    review a period later; if they keep their tier, only the review date moves.
    Does nothing when the review is not due yet (so running it twice is harmless).
    """
    now = now or timezone.now()
    with transaction.atomic():
        membership = Membership.objects.select_for_update().filter(user_id=user_id).first()
        if membership is None or membership.review_at + timedelta(days=grace_days()) > now:
            return None
        figures = qualifying_figures(user_id, at=now)
        target = tier_for(active_tiers(), figures.spend, figures.orders, figures.points)
        change = None
        if target is not None and target.pk != membership.tier_id:
            change = _change(
                membership, target, reason=TierChange.Reason.REVIEW, figures=figures, now=now
            )
        else:
            membership.review_at = now + timedelta(days=review_days())
        membership.qualifying_spend = figures.spend
        membership.qualifying_orders = figures.orders
        membership.evaluated_at = now
        membership.save()
        return change


def tiers_review_due(*, now: datetime | None = None, batch_size: int = 500) -> tuple[int, int]:
    """Review one batch of due memberships (pk order). Returns (reviewed, still due)."""
    now = now or timezone.now()
    due_before = now - timedelta(days=grace_days())
    ids = list(
        Membership.objects.filter(review_at__lte=due_before)
        .order_by("pk")
        .values_list("user_id", flat=True)[:batch_size]
    )
    for user_id in ids:
        tier_review(user_id=user_id, now=now)
    remaining = Membership.objects.filter(review_at__lte=due_before).count()
    return len(ids), remaining


def memberships_rebuild(*, now: datetime | None = None, user_ids=None) -> dict[str, int]:
    """After an import (orders written without signals): give every member a
    membership and upgrade those whose history qualifies them (reason "rebuild").

    Rolling figures of all members come from one aggregate query; only members
    who need a new row or an upgrade are written; the others' rolling figures are
    refreshed when they changed. Never downgrades.
    """
    from django.contrib.auth import get_user_model

    now = now or timezone.now()
    tiers = active_tiers()
    if not tiers:
        return {"created": 0, "upgraded": 0}
    since = now - timedelta(days=qualifying_days())
    rows = Order.objects.filter(
        status=Order.Status.COMPLETED, completed_at__gt=since, completed_at__lte=now
    )
    users = get_user_model().objects.filter(is_active=True)
    if user_ids is not None:
        rows = rows.filter(user_id__in=user_ids)
        users = users.filter(pk__in=user_ids)
    figures = {
        r["user_id"]: (r["spend"] or ZERO, r["n"])
        for r in rows.values("user_id").annotate(
            spend=Sum(F("total") - F("refunded_total")), n=Sum(1)
        )
    }
    current = {
        user_id: (rank, spend, n)
        for user_id, rank, spend, n in Membership.objects.values_list(
            "user_id", "tier__rank", "qualifying_spend", "qualifying_orders"
        )
    }
    entry = tiers[0]
    new_members, changes, upgrades, stale = [], [], [], []
    for user_id in users.order_by("pk").values_list("pk", flat=True).iterator(chunk_size=2000):
        spend, n = figures.get(user_id, (ZERO, 0))
        points = points_earned(user_id, since) if any(t.min_points for t in tiers) else None
        target = tier_for(tiers, spend, n, points)
        have = current.get(user_id)
        if have is None:
            new_members.append(
                Membership(
                    user_id=user_id,
                    tier=target,
                    since=now,
                    review_at=now + timedelta(days=review_days()),
                    qualifying_spend=spend,
                    qualifying_orders=n,
                    evaluated_at=now,
                )
            )
            changes.append(
                TierChange(
                    user_id=user_id, to_tier=entry, reason=TierChange.Reason.JOINED, created_at=now
                )
            )
            if target.pk != entry.pk:
                changes.append(
                    TierChange(
                        user_id=user_id,
                        from_tier=entry,
                        to_tier=target,
                        reason=TierChange.Reason.REBUILD,
                        qualifying_spend=spend,
                        qualifying_orders=n,
                        created_at=now,
                    )
                )
        elif target.rank > have[0]:
            upgrades.append(user_id)
        elif (spend, n) != have[1:]:
            # Orders left the rolling window (or arrived without signals): the figures
            # members see ("spent in the last 12 months", progress) follow, the tier does not.
            stale.append((user_id, spend, n))
    with transaction.atomic():
        # ignore_conflicts: a member whose row a concurrent evaluation created keeps it.
        Membership.objects.bulk_create(new_members, batch_size=2000, ignore_conflicts=True)
        if new_members:
            # Their history only for the rows written here (they carry this run's ``now``).
            mine = set(
                Membership.objects.filter(since=now, evaluated_at=now).values_list(
                    "user_id", flat=True
                )
            )
            changes = [c for c in changes if c.user_id in mine]
        TierChange.objects.bulk_create(changes, batch_size=2000)
    memo.forget()  # bulk writes send no signals
    for user_id in upgrades:
        tier_evaluate(user_id=user_id, reason=TierChange.Reason.REBUILD, now=now)
    for user_id, spend, n in stale:
        # Guarded: a membership evaluated since ``now`` keeps its fresher figures.
        Membership.objects.filter(user_id=user_id, evaluated_at__lte=now).update(
            qualifying_spend=spend, qualifying_orders=n, evaluated_at=now
        )
    if stale:
        memo.forget()
    return {"created": len(new_members), "upgraded": len(upgrades)}


@dataclass(frozen=True)
class Progress:
    next_tier: Tier | None
    spend_missing: Decimal | None
    orders_missing: int | None
    before: datetime | None


def tier_progress(membership: Membership, tiers: Sequence[Tier]) -> Progress:
    """What the member still needs for the next tier, and by when (their review date)."""
    higher = [t for t in tiers if t.rank > membership.tier.rank]
    if not higher:
        return Progress(None, None, None, None)
    nxt = higher[0]
    spend = max(nxt.min_spend - membership.qualifying_spend, ZERO) if nxt.min_spend > 0 else None
    orders = max(nxt.min_orders - membership.qualifying_orders, 0) if nxt.min_orders > 0 else None
    return Progress(nxt, spend, orders, membership.review_at)
