"""Reads of promotions, coupons and points, shaped for their callers."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Min, Prefetch, Q, QuerySet, Sum
from django.utils import timezone

from catalog.models import Category
from promotions import rules
from promotions.audience import Audience, audience_matches
from promotions.cache import LIVE_VERSION_KEY, promotions_live_invalidate  # noqa: F401
from promotions.models import (
    Coupon,
    CouponCampaign,
    CouponRedemption,
    ExchangeItem,
    OrderDiscount,
    PointsAccount,
    PointsEntry,
    PointsExchange,
    Promotion,
)

ZERO = Decimal("0.00")


def _is_member(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False)


def _category_children() -> dict[int | None, list[int]]:
    children: dict[int | None, list[int]] = {}
    for pk, parent in Category.objects.values_list("pk", "parent_id"):
        children.setdefault(parent, []).append(pk)
    return children


def _category_descendants(ids: set[int], children: dict | None = None) -> frozenset[int]:
    """``ids`` with every subcategory below them (one query for the whole tree)."""
    if not ids:
        return frozenset()
    if children is None:
        children = _category_children()
    found, todo = set(ids), list(ids)
    while todo:
        for child in children.get(todo.pop(), ()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return frozenset(found)


def promotions_live(now=None) -> QuerySet[Promotion]:
    """Active promotions whose window contains ``now``, with their scopes prefetched."""
    now = now or timezone.now()
    return (
        Promotion.objects.filter(is_active=True, starts_at__lte=now)
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))
        .prefetch_related(
            Prefetch("categories", queryset=Category.objects.only("pk")),
            "brands",
            "products",
        )
    )


def promotion_uses_by_member(*, user, promotion_ids: list[int]) -> dict[int, int]:
    """How many orders of the member each promotion applied to (returned uses excluded)."""
    if not _is_member(user) or not promotion_ids:
        return {}
    rows = (
        OrderDiscount.objects.filter(
            user=user, promotion_id__in=promotion_ids, status=OrderDiscount.Status.ACTIVE
        )
        .values("promotion_id")
        .annotate(n=Count("order_id", distinct=True))
    )
    return {row["promotion_id"]: row["n"] for row in rows}


def _benefit(promotion: Promotion) -> rules.Benefit | None:
    kind = Promotion.Kind
    if promotion.kind == kind.THRESHOLD:
        steps = tuple((Decimal(str(s)), Decimal(str(o))) for s, o in promotion.tiers or ())
        return rules.ThresholdBenefit(
            steps=steps, repeat=promotion.repeat, cap=promotion.max_discount
        )
    if promotion.kind == kind.PERCENT_OFF and promotion.percent:
        return rules.PercentOff(percent=promotion.percent, cap=promotion.max_discount)
    if promotion.kind == kind.FIXED_OFF and promotion.amount:
        return rules.FixedOff(value=promotion.amount)
    if promotion.kind == kind.BUY_N_GET_M and promotion.buy_quantity and promotion.free_quantity:
        return rules.BuyNGetM(buy=promotion.buy_quantity, free=promotion.free_quantity)
    return None


@dataclass(frozen=True)
class LoadedPromotions:
    rules: list[rules.Rule]
    free_shipping: list[Promotion]
    by_id: dict[int, Promotion]
    # Free-shipping promotion id -> its product/category/brand scope (empty: every item).
    scopes: dict[int, rules.Scope] = field(default_factory=dict)


# --- the live set, cached ---------------------------------------------------------------------


@dataclass(frozen=True)
class LiveSet:
    """The live promotions at ``built_at`` with their scopes (categories expanded to their
    subcategories), valid until ``next_change`` (the next window start or end)."""

    promotions: list[Promotion]
    scopes: dict[int, rules.Scope]
    built_at: datetime
    next_change: datetime | None

    def valid_at(self, now: datetime) -> bool:
        return self.built_at <= now and (self.next_change is None or now < self.next_change)


def _live_build(now: datetime) -> LiveSet:
    promotions = list(promotions_live(now))
    children = _category_children() if any(p.categories.all() for p in promotions) else {}
    scopes = {}
    for promotion in promotions:
        scopes[promotion.pk] = rules.Scope(
            category_ids=_category_descendants(
                {c.pk for c in promotion.categories.all()}, children
            ),
            brand_ids=frozenset(b.pk for b in promotion.brands.all()),
            product_ids=frozenset(p.pk for p in promotion.products.all()),
        )
        promotion._prefetched_objects_cache = {}  # the scopes are kept above, not pickled
    ends = [p.ends_at for p in promotions if p.ends_at]
    next_start = Promotion.objects.filter(is_active=True, starts_at__gt=now).aggregate(
        first=Min("starts_at")
    )["first"]
    changes = [t for t in [*ends, next_start] if t is not None]
    return LiveSet(
        promotions=promotions,
        scopes=scopes,
        built_at=now,
        next_change=min(changes) if changes else None,
    )


def promotions_live_cached(now=None) -> LiveSet:
    """The live set from the cache (no query on a hit), rebuilt when a promotion was saved or
    deleted (version key), when a window starts or ends, or after
    ``PROMOTIONS_LIVE_CACHE_SECONDS`` (0: never cached). Budgets are not read from here."""
    now = now or timezone.now()
    seconds = int(getattr(settings, "PROMOTIONS_LIVE_CACHE_SECONDS", 0) or 0)
    if seconds <= 0:
        return _live_build(now)
    version = cache.get(LIVE_VERSION_KEY)
    if version is None:
        version = time.time_ns()
        cache.add(LIVE_VERSION_KEY, version, None)
        version = cache.get(LIVE_VERSION_KEY, version)
    key = f"promotions:live:{version}"
    live = cache.get(key)
    if live is not None and live.valid_at(now):
        return live
    live = _live_build(now)
    if live.valid_at(timezone.now()):
        cache.set(key, live, seconds)
    return live


def _budgets_spent(promotions: list[Promotion]) -> dict[int, Decimal]:
    """What the budgeted promotions have given so far, read fresh (one query, none when no
    promotion has a budget): checkout's guarded update stays the judge, this keeps the cart
    from offering a promotion that just ran out."""
    ids = [p.pk for p in promotions if p.budget is not None]
    if not ids:
        return {}
    return dict(Promotion.objects.filter(pk__in=ids).values_list("pk", "spent"))


def _shipping_fee() -> Decimal:
    return Decimal(str(settings.SHIPPING_FEE))


def promotion_rules(*, user, audience: Audience, now=None) -> LoadedPromotions:
    """The live promotions for this member as engine rules (audience and per-member
    limits applied; budgets as what is left), and the free-shipping ones apart."""
    live_set = promotions_live_cached(now)
    live = [p for p in live_set.promotions if audience_matches(p, audience)]
    limited = [p.pk for p in live if p.per_member_limit]
    used = promotion_uses_by_member(user=user, promotion_ids=limited)
    spent = _budgets_spent(live)

    loaded, free_shipping = [], []
    for promotion in live:
        if promotion.kind == Promotion.Kind.FREE_SHIPPING:
            limit = promotion.per_member_limit
            if limit and (not _is_member(user) or used.get(promotion.pk, 0) >= limit):
                continue  # members only; used up by this member
            if promotion.budget is not None and (
                promotion.budget - spent.get(promotion.pk, promotion.spent) < _shipping_fee()
            ):
                continue  # the budget cannot pay one more waived fee
            free_shipping.append(promotion)
            continue
        benefit = _benefit(promotion)
        if benefit is None:
            continue
        blocked = ""
        if promotion.per_member_limit and not _is_member(user):
            # counted per member: a visitor sees it, unapplied, and logs in to use it
            blocked = "members_only"
        elif promotion.per_member_limit and used.get(promotion.pk, 0) >= promotion.per_member_limit:
            blocked = "member_limit"
        budget_left = None
        if promotion.budget is not None:
            budget_left = max(promotion.budget - spent.get(promotion.pk, promotion.spent), ZERO)
            if budget_left <= 0:
                blocked = blocked or "budget_spent"
        loaded.append(
            rules.Rule(
                id=promotion.pk,
                code=promotion.code,
                label=promotion.display_name,
                benefit=benefit,
                scope=live_set.scopes[promotion.pk],
                condition=rules.MinSpend(promotion.min_spend or ZERO),
                priority=promotion.priority,
                exclusive=promotion.exclusive,
                budget_left=budget_left,
                blocked=blocked,
            )
        )
    return LoadedPromotions(
        rules=loaded,
        free_shipping=free_shipping,
        by_id={p.pk: p for p in live},
        scopes={p.pk: live_set.scopes[p.pk] for p in free_shipping},
    )


def campaign_scope(campaign: CouponCampaign) -> rules.Scope:
    return rules.Scope(
        category_ids=_category_descendants({c.pk for c in campaign.categories.all()}),
        brand_ids=frozenset(b.pk for b in campaign.brands.all()),
    )


def coupon_by_code(code: str) -> Coupon | None:
    return (
        Coupon.objects.select_related("campaign")
        .prefetch_related("campaign__categories", "campaign__brands")
        .filter(code=code)
        .first()
    )


def campaign_by_public_code(code: str) -> CouponCampaign | None:
    return (
        CouponCampaign.objects.prefetch_related("categories", "brands")
        .filter(public_code=code)
        .first()
    )


def campaign_redemptions_by_member(*, user, campaign_id: int) -> int:
    return CouponRedemption.objects.filter(
        user=user, campaign_id=campaign_id, status=CouponRedemption.Status.ACTIVE
    ).count()


# --- wallet ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class WalletCoupon:
    coupon: Coupon
    status: str  # usable, used, expired, not_yet_valid

    @property
    def campaign(self) -> CouponCampaign:
        return self.coupon.campaign


def coupon_status(coupon: Coupon, now=None) -> str:
    now = now or timezone.now()
    campaign = coupon.campaign
    if coupon.is_used_up:
        return "used"
    if not campaign.is_active or (campaign.ends_at and now >= campaign.ends_at):
        return "expired"
    if coupon.is_expired(now):
        return "expired"
    if campaign.starts_at > now:
        return "not_yet_valid"
    return "usable"


STATUS_ORDER = {"usable": 0, "not_yet_valid": 1, "used": 2, "expired": 3}


def wallet(*, user, now=None) -> list[WalletCoupon]:
    """The member's coupons (usable first, then by expiry), one query."""
    if not _is_member(user):
        return []
    now = now or timezone.now()
    coupons = Coupon.objects.filter(owner=user).select_related("campaign").order_by("-id")
    rows = [WalletCoupon(coupon=c, status=coupon_status(c, now)) for c in coupons]
    far = now + timedelta(days=36500)
    rows.sort(key=lambda r: (STATUS_ORDER[r.status], r.coupon.valid_until or far, -r.coupon.pk))
    return rows


# --- points ----------------------------------------------------------------------------------


def points_balance(*, user) -> int:
    if not _is_member(user):
        return 0
    account = PointsAccount.objects.filter(user=user).only("balance").first()
    return account.balance if account else 0


def points_ledger_sum(*, user) -> int:
    return PointsEntry.objects.filter(user=user).aggregate(s=Sum("amount"))["s"] or 0


def points_expiring(*, user, now=None, days: int | None = None) -> tuple[int, object]:
    """(points expiring within ``days``, the earliest expiry among them or None)."""
    now = now or timezone.now()
    days = settings.PROMOTIONS_POINTS_EXPIRING_SOON_DAYS if days is None else days
    lots = PointsEntry.objects.filter(
        user=user,
        remaining__gt=0,
        expires_at__isnull=False,
        expires_at__lte=now + timedelta(days=days),
    ).aggregate(points=Sum("remaining"), first=Min("expires_at"))
    return lots["points"] or 0, lots["first"]


def points_history(*, user) -> QuerySet[PointsEntry]:
    """The member's ledger, newest first, with the order number (no query per row)."""
    return (
        PointsEntry.objects.filter(user=user)
        .select_related("order")
        .only(
            "id",
            "kind",
            "amount",
            "balance_after",
            "reason",
            "ref",
            "expires_at",
            "created_at",
            "order__id",
            "order__number",
        )
        .order_by("-created_at", "-id")
    )


def exchange_catalogue(now=None) -> QuerySet[ExchangeItem]:
    """Active items; a coupon item only while its campaign has not ended (a coupon of an
    ended campaign would be born expired: points spent on nothing)."""
    now = now or timezone.now()
    open_campaign = Q(campaign__is_active=True) & (
        Q(campaign__ends_at__isnull=True) | Q(campaign__ends_at__gt=now)
    )
    return (
        ExchangeItem.objects.filter(is_active=True)
        .filter(Q(kind=ExchangeItem.Kind.GIFT) | open_campaign)
        .select_related("campaign", "product")
    )


def exchange_count_by_member(*, user, item_id: int) -> int:
    return PointsExchange.objects.filter(user=user, item_id=item_id).count()


def exchanges_of(*, user) -> QuerySet[PointsExchange]:
    return PointsExchange.objects.filter(user=user).select_related("item").order_by("-created_at")


def order_discounts(*, order_id: int) -> QuerySet[OrderDiscount]:
    return OrderDiscount.objects.filter(order_id=order_id).prefetch_related("lines")


# --- what an order saved (orders' ORDER_SAVINGS_PROVIDER) ------------------------------------


@dataclass(frozen=True)
class OrderDiscountRow:
    source: str  # promotion, coupon, points, shipping
    code: str
    label: str
    amount: Decimal
    points: int
    status: str  # active, returned


@dataclass(frozen=True)
class OrderSavings:
    """An order's discounts by source and its points (spent, earned, reversed, returned)."""

    discounts: list[OrderDiscountRow]
    points_spent: int = 0
    points_earned: int = 0
    points_reversed: int = 0
    points_returned: int = 0

    @property
    def has_points(self) -> bool:
        return bool(
            self.points_spent or self.points_earned or self.points_reversed or self.points_returned
        )


def _discount_label(record: OrderDiscount) -> str:
    named_by_promotion = (OrderDiscount.Source.PROMOTION, OrderDiscount.Source.SHIPPING)
    if record.source in named_by_promotion and record.promotion is not None:
        return record.promotion.display_name
    return record.label


def order_savings(order_ids) -> dict[int, OrderSavings]:
    """The savings of these orders (any number) in two queries: their ``OrderDiscount``
    records (promotions by name, coupon code, points with their value, free shipping) and
    the sums of their points entries by kind. Callers pass only ids the member may see."""
    ids = list(order_ids)
    if not ids:
        return {}
    discounts: dict[int, list[OrderDiscountRow]] = {pk: [] for pk in ids}
    records = (
        OrderDiscount.objects.filter(order_id__in=ids)
        .select_related("promotion")
        .order_by("order_id", "id")
    )
    for record in records:
        discounts[record.order_id].append(
            OrderDiscountRow(
                source=record.source,
                code=record.code,
                label=_discount_label(record),
                amount=record.amount,
                points=record.points,
                status=record.status,
            )
        )
    points: dict[tuple[int, str], int] = {}
    rows = (
        PointsEntry.objects.filter(order_id__in=ids)
        .values("order_id", "kind")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    for row in rows:
        points[(row["order_id"], row["kind"])] = abs(row["total"] or 0)
    kind = PointsEntry.Kind
    return {
        pk: OrderSavings(
            discounts=discounts[pk],
            points_spent=points.get((pk, kind.SPEND), 0),
            points_earned=points.get((pk, kind.EARN), 0),
            points_reversed=points.get((pk, kind.REVERSE), 0),
            points_returned=points.get((pk, kind.RETURN), 0),
        )
        for pk in ids
    }
