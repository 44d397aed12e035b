"""Scoring members (``manage.py score_members`` and the nightly task): load the orders
up to the as-of date from the orders tables, run ``membership.prediction.predict``,
add the tier and RFM segment *as of that date* (from the same orders), and write a
CSV and/or the ``MemberScore`` rows.

Which orders count: every order with a payment that was not cancelled (paid,
shipped, delivered, completed, refunded) placed on or before the as-of date (UTC
day), worth its total minus what was refunded. Imported history is all completed.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
from django.db import transaction
from django.db.models import F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from membership import memo, prediction
from membership.models import MemberScore, Tier
from membership.segments import rfm_assign
from orders.models import Order, Refund

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
COUNTED_STATUSES = (
    Order.Status.PAID,
    Order.Status.SHIPPED,
    Order.Status.DELIVERED,
    Order.Status.COMPLETED,
    Order.Status.REFUNDED,
)
CSV_HEADER = ["customer", "p_return", "expected_orders", "expected_spend", "tier", "segment"]
# A member is flagged at churn risk when P(order again) falls below this.
AT_RISK_P = 0.35


def day_end(as_of: date) -> datetime:
    """The first instant after the as-of day (UTC): orders placed before it count."""
    return datetime.combine(as_of + timedelta(days=1), time.min, tzinfo=UTC)


def load_orders(as_of: date | None) -> tuple[prediction.Orders, list[str]]:
    """Orders up to ``as_of`` (None: all) as arrays; members indexed by their customer key
    (external id, or ``user:<id>`` for members created in the shop)."""
    orders, names, _ids = load_orders_with_ids(as_of)
    return orders, names


def load_orders_with_ids(as_of: date | None) -> tuple[prediction.Orders, list[str], list[int]]:
    """``load_orders`` plus the user id of each member index."""
    rows = Order.objects.filter(status__in=COUNTED_STATUSES).annotate(
        n_items=Sum("items__quantity")
    )
    if as_of is not None:
        end = day_end(as_of)
        # The order's state on the as-of day: not yet paid then -> left out; paid then and
        # cancelled later -> counted (its later refund is added back below).
        rows = Order.objects.filter(
            (Q(status__in=COUNTED_STATUSES) & (Q(paid_at__isnull=True) | Q(paid_at__lt=end)))
            | Q(status=Order.Status.CANCELLED, paid_at__lt=end, cancelled_at__gte=end),
            placed_at__lt=end,
        ).annotate(n_items=Sum("items__quantity"))
        # A refund made after the as-of day is later data: add it back to the value.
        late = (
            Refund.objects.filter(order=OuterRef("pk"), created_at__gte=end)
            .order_by()
            .values("order")
            .annotate(s=Sum("amount"))
            .values("s")
        )
        rows = rows.annotate(
            refunded=F("refunded_total") - Coalesce(Subquery(late), Value(Decimal("0.00")))
        )
    else:
        rows = rows.annotate(refunded=F("refunded_total"))
    data = list(
        rows.order_by().values_list(
            "user_id", "user__external_id", "placed_at", "total", "refunded", "n_items"
        )
    )
    keys: dict[int, int] = {}
    names: list[str] = []
    member = np.empty(len(data), dtype=np.int64)
    day = np.empty(len(data))
    amount = np.empty(len(data))
    quantity = np.empty(len(data))
    for i, (user_id, external_id, placed_at, total, refunded, n_items) in enumerate(data):
        position = keys.get(user_id)
        if position is None:
            position = keys[user_id] = len(names)
            names.append(external_id if external_id is not None else f"user:{user_id}")
        member[i] = position
        day[i] = (placed_at - EPOCH).total_seconds() / 86400.0
        amount[i] = float(total - refunded)
        quantity[i] = n_items or 1
    orders = prediction.Orders(member, day, amount, len(names), quantity)
    return orders, names, list(keys)


@dataclass
class ScoredMember:
    user_id: int
    customer: str
    p_return: float
    expected_orders: float
    expected_spend: Decimal
    tier: str
    segment: str


def _money(value: float) -> Decimal:
    return Decimal(str(round(float(value), 4))).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def members_score(*, as_of: date, horizon_days: int, seed: int = 0) -> list[ScoredMember]:
    """Scores of every member with an order up to ``as_of``; uses no later data."""
    orders, names, user_ids = load_orders_with_ids(as_of)
    if not names:
        return []
    cutoff = (day_end(as_of) - EPOCH).total_seconds() / 86400.0
    result = prediction.predict(orders, cutoff, float(horizon_days), seed=seed)
    tiers = tiers_as_of(orders, cutoff)
    segments = rfm_assign(prediction.features_at(orders, cutoff))
    members_score.last_result = result  # type: ignore[attr-defined]
    out = []
    for i in np.flatnonzero(result.present):
        out.append(
            ScoredMember(
                user_id=user_ids[i],
                customer=names[i],
                p_return=float(np.clip(result.p_return[i], 0, 1)),
                expected_orders=float(max(result.expected_orders[i], 0)),
                expected_spend=_money(max(result.expected_spend[i], 0)),
                tier=tiers[i],
                segment=segments[i],
            )
        )
    return out


def tiers_as_of(orders: prediction.Orders, cutoff: float) -> list[str]:
    """Each member's qualifying tier code from the rolling window's spend/orders at ``cutoff``."""
    from membership.tiers import qualifying_days, tier_for

    window = orders.window(cutoff - qualifying_days(), cutoff)
    spend = np.zeros(orders.n_members)
    np.add.at(spend, window.member, window.amount)
    count = np.bincount(window.member, minlength=orders.n_members)
    tiers = list(Tier.objects.filter(is_active=True).order_by("rank"))
    cache: dict[tuple, str] = {}
    out = []
    for s, c in zip(spend, count, strict=True):
        key = (round(float(s), 2), int(c))
        if key not in cache:
            tier = tier_for(tiers, _money(s), int(c), None)
            cache[key] = tier.code if tier else ""
        out.append(cache[key])
    return out


def scores_write_csv(scored: Iterable[ScoredMember], handle) -> int:
    writer = csv.writer(handle)
    writer.writerow(CSV_HEADER)
    n = 0
    for row in scored:
        writer.writerow(
            [
                row.customer,
                f"{row.p_return:.6f}",
                f"{row.expected_orders:.4f}",
                f"{row.expected_spend:.2f}",
                row.tier,
                row.segment,
            ]
        )
        n += 1
    return n


def _high_potential(row: ScoredMember, next_tier: dict[str, Tier | None]) -> bool:
    """Likely to come back and to spend at least half the next tier's threshold."""
    nxt = next_tier.get(row.tier)
    return bool(nxt is not None and row.p_return >= 0.7 and row.expected_spend >= nxt.min_spend / 2)


def advice_for(row: ScoredMember, next_tier: dict[str, Tier | None]) -> str:
    """A short staff hint from the prediction (tier advice, churn alert)."""
    if row.p_return < AT_RISK_P:
        return _("At risk: send a win-back offer")
    nxt = next_tier.get(row.tier)
    if _high_potential(row, next_tier):
        return _("High potential: offer %(tier)s trial") % {"tier": nxt.display_name}
    return ""


def scores_save(*, scored: list[ScoredMember], as_of: date, horizon_days: int) -> int:
    """Replace the stored ``MemberScore`` rows by these (one transaction)."""
    tiers = list(Tier.objects.filter(is_active=True).order_by("rank"))
    next_tier = {
        t.code: (tiers[i + 1] if i + 1 < len(tiers) else None) for i, t in enumerate(tiers)
    }
    now = timezone.now()
    rows = [
        MemberScore(
            user_id=s.user_id,
            as_of=as_of,
            horizon_days=horizon_days,
            p_return=s.p_return,
            expected_orders=s.expected_orders,
            expected_spend=s.expected_spend,
            at_risk=s.p_return < AT_RISK_P,
            high_potential=_high_potential(s, next_tier),
            advice=advice_for(s, next_tier),
            scored_at=now,
        )
        for s in scored
    ]
    with transaction.atomic():
        MemberScore.objects.all().delete()
        MemberScore.objects.bulk_create(rows, batch_size=2000)
    memo.forget()  # bulk writes send no signals
    return len(rows)
