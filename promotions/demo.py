"""Demo promotions, coupons, exchange items and points for ``seed_demo`` (idempotent).

- Promotions: 每满200减20 (stackable, at most 100 off), 满500减60 / 满1000减150
  (exclusive), 10% off the largest department (stackable), buy 2 get 1 free on
  the largest brand, free shipping from 59.00.
- Coupon campaigns: public codes ``WELCOME10`` (10 off from 50) and ``SPRING15``
  (15% off from 100, at most 30 off); ``VIP50`` (50 off from 300) as 20
  generated single-use codes; a 5.00 coupon and a gift in the exchange catalogue.
- Points: an ``earn`` entry for each completed demo order (floor of what was
  paid × ``PROMOTIONS_POINTS_EARN_RATE``, lots expiring 12 months after
  completion), written in bulk; then lots past their date are expired through
  the service, so balances are the ledger sums.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Sum
from django.utils import timezone

from catalog.models import Brand, Category, Product
from promotions import services
from promotions.models import (
    CouponCampaign,
    ExchangeItem,
    PointsAccount,
    PointsEntry,
    Promotion,
)

D = Decimal
BATCH = 5000


def _promotions(now) -> int:
    start = now - timedelta(days=30)
    end = now + timedelta(days=90)
    top_category = (
        Category.objects.filter(parent__isnull=True)
        .annotate(n=Count("products"))
        .order_by("-n", "pk")
        .first()
    )
    top_brand = Brand.objects.annotate(n=Count("products")).order_by("-n", "pk").first()
    specs = [
        {
            "code": "every-200-save-20",
            "name": "Every 200 off 20",
            "name_zh_hans": "每满200减20",
            "kind": Promotion.Kind.THRESHOLD,
            "tiers": [["200.00", "20.00"]],
            "repeat": True,
            "max_discount": D("100.00"),
            "priority": 10,
        },
        {
            "code": "big-basket",
            "name": "500 off 60, 1000 off 150",
            "name_zh_hans": "满500减60，满1000减150",
            "kind": Promotion.Kind.THRESHOLD,
            "tiers": [["500.00", "60.00"], ["1000.00", "150.00"]],
            "exclusive": True,
            "priority": 20,
            "budget": D("50000.00"),
        },
        {
            "code": "free-shipping-59",
            "name": "Free shipping from 59.00",
            "name_zh_hans": "满59包邮",
            "kind": Promotion.Kind.FREE_SHIPPING,
            "min_spend": D("59.00"),
        },
    ]
    if top_category is not None:
        specs.append(
            {
                "code": "department-10-off",
                "name": f"10% off {top_category.name}",
                "name_zh_hans": f"{top_category.name_zh_hans or top_category.name} 9折",
                "kind": Promotion.Kind.PERCENT_OFF,
                "percent": D("10.00"),
                "priority": 5,
                "_categories": [top_category],
            }
        )
    if top_brand is not None:
        specs.append(
            {
                "code": "buy-2-get-1",
                "name": f"{top_brand.name}: buy 2, get 1 free",
                "name_zh_hans": f"{top_brand.name} 买二送一",
                "kind": Promotion.Kind.BUY_N_GET_M,
                "buy_quantity": 2,
                "free_quantity": 1,
                "per_member_limit": 3,
                "priority": 8,
                "_brands": [top_brand],
            }
        )
    created = 0
    for spec in specs:
        categories = spec.pop("_categories", [])
        brands = spec.pop("_brands", [])
        promotion, made = Promotion.objects.get_or_create(
            code=spec.pop("code"), defaults={**spec, "starts_at": start, "ends_at": end}
        )
        if made:
            promotion.categories.set(categories)
            promotion.brands.set(brands)
            created += 1
    return created


def _campaigns(now) -> tuple[int, int]:
    start = now - timedelta(days=7)
    end = now + timedelta(days=60)
    specs = [
        {
            "public_code": "WELCOME10",
            "name": "Welcome: 10 off from 50",
            "name_zh_hans": "新人券：满50减10",
            "value": D("10.00"),
            "min_spend": D("50.00"),
        },
        {
            "public_code": "SPRING15",
            "name": "Spring: 15% off from 100",
            "name_zh_hans": "春季券：满100享85折",
            "kind": CouponCampaign.Kind.PERCENT,
            "value": D("15.00"),
            "max_discount": D("30.00"),
            "min_spend": D("100.00"),
            "total_limit": 1000,
        },
    ]
    created = codes = 0
    for spec in specs:
        _campaign, made = CouponCampaign.objects.get_or_create(
            public_code=spec.pop("public_code"),
            defaults={**spec, "starts_at": start, "ends_at": end},
        )
        created += made
    vip, made = CouponCampaign.objects.get_or_create(
        name="VIP: 50 off from 300",
        defaults={
            "name_zh_hans": "VIP券：满300减50",
            "value": D("50.00"),
            "min_spend": D("300.00"),
            "starts_at": start,
            "ends_at": end,
        },
    )
    if made:
        created += 1
        codes = services.coupons_generate(campaign_id=vip.pk, count=20, prefix="VIP", batch="demo")
    exchange_coupon, made = CouponCampaign.objects.get_or_create(
        name="Points exchange: 5 off",
        defaults={
            "name_zh_hans": "积分兑换券：减5元",
            "value": D("5.00"),
            "min_spend": D("30.00"),
            "starts_at": start,
            "per_member_limit": None,
        },
    )
    created += made
    ExchangeItem.objects.get_or_create(
        name="5.00 coupon",
        defaults={
            "name_zh_hans": "5元优惠券",
            "kind": ExchangeItem.Kind.COUPON,
            "campaign": exchange_coupon,
            "points_cost": 500,
            "stock": 500,
            "per_member_limit": 5,
        },
    )
    gift = Product.objects.filter(is_active=True).order_by("price", "pk").first()
    if gift is not None:
        ExchangeItem.objects.get_or_create(
            name=f"Gift: {gift.name}",
            defaults={
                "name_zh_hans": f"礼品：{gift.name_zh_hans or gift.name}",
                "kind": ExchangeItem.Kind.GIFT,
                "product": gift,
                "points_cost": max(1000, int(gift.price) * 100),
                "stock": 50,
                "per_member_limit": 1,
            },
        )
    return created, codes


def _points(now) -> int:
    """Earn entries for completed orders that have none, in bulk; balances recomputed."""
    from orders.models import Order

    rate = D(str(settings.PROMOTIONS_POINTS_EARN_RATE))
    months = int(settings.PROMOTIONS_POINTS_EXPIRY_MONTHS)
    done = set(
        PointsEntry.objects.filter(kind=PointsEntry.Kind.EARN, order__isnull=False).values_list(
            "order_id", flat=True
        )
    )
    orders = (
        Order.objects.filter(status=Order.Status.COMPLETED)
        .annotate(
            paid=Sum(F("items__line_total") - F("items__discount") - F("items__refunded_amount"))
        )
        .values_list("pk", "user_id", "number", "completed_at", "paid")
        .order_by("pk")
    )
    entries = []
    for pk, user_id, number, completed_at, paid in orders.iterator(chunk_size=BATCH):
        if pk in done or not paid:
            continue
        points = math.floor(paid * rate)
        if points <= 0:
            continue
        at = completed_at or now
        entries.append(
            PointsEntry(
                user_id=user_id,
                kind=PointsEntry.Kind.EARN,
                amount=points,
                balance_after=0,
                reason=f"Order {number} completed",
                order_id=pk,
                ref=f"earn:order:{pk}",
                expires_at=at + relativedelta(months=months) if months > 0 else None,
                remaining=points,
                created_at=at,
            )
        )
    with transaction.atomic():
        PointsEntry.objects.bulk_create(entries, batch_size=BATCH, ignore_conflicts=True)
        users = {e.user_id for e in entries}
        sums = dict(
            PointsEntry.objects.filter(user_id__in=users)
            .values("user_id")
            .annotate(s=Sum("amount"))
            .values_list("user_id", "s")
        )
        existing = set(
            PointsAccount.objects.filter(user_id__in=users).values_list("user_id", flat=True)
        )
        PointsAccount.objects.bulk_create(
            [PointsAccount(user_id=u, balance=sums.get(u, 0)) for u in users - existing],
            batch_size=BATCH,
        )
        for account in PointsAccount.objects.filter(user_id__in=existing):
            PointsAccount.objects.filter(pk=account.pk).update(balance=sums.get(account.user_id, 0))
        # balance_after of the new entries: the running sum per member, oldest first
        running: dict[int, int] = {}
        changed = []
        for entry in (
            PointsEntry.objects.filter(user_id__in=users)
            .order_by("user_id", "created_at", "id")
            .only("id", "user_id", "amount", "balance_after")
        ):
            running[entry.user_id] = running.get(entry.user_id, 0) + entry.amount
            if entry.balance_after != running[entry.user_id]:
                entry.balance_after = running[entry.user_id]
                changed.append(entry)
        PointsEntry.objects.bulk_update(changed, ["balance_after"], batch_size=1000)
    services.points_expire_due(now=now)
    return len(entries)


def demo_promotions_seed(*, log: Callable[[str], None] | None = None) -> dict:
    """Create the demo promotions, campaigns, exchange items and points (idempotent)."""
    now = timezone.now()
    promotions = _promotions(now)
    campaigns, codes = _campaigns(now)
    points = _points(now)
    result = {"promotions": promotions, "campaigns": campaigns, "codes": codes, "earn": points}
    if log:
        log(
            f"promotions: {promotions} promotions, {campaigns} coupon campaigns, {codes} codes, "
            f"{points} points entries"
        )
    return result
