"""Writes of promotions, coupons and points; each owns its transaction.

Locking: every points movement, coupon redemption, promotion use and points
exchange of a member first locks that member's ``PointsAccount`` row (created
on first use), so one member's concurrent checkouts and exchanges run one at a
time; shared counters (promotion uses and budget, coupon and campaign uses,
exchange stock) then move by guarded ``UPDATE ... WHERE counter < limit``
statements whose row count says whether they were taken. Lock order, always:
cart, products (checkout), points account, promotion rows in pk order, coupon,
campaign, exchange item.

Checkout calls the ``*_commit`` functions through ``Discount.commit`` inside
``orders.checkout.order_place``'s transaction; a refusal raises a domain error
and the whole order rolls back. Reactions to orders (earn on completion,
returns on cancellation and refund) run in Celery tasks (``promotions.tasks``)
and are idempotent through the ledger's unique ``ref``.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import selectors as account_selectors
from promotions import rules, selectors
from promotions.audience import audience_matches, member_audience, points_multiplier
from promotions.cache import promotions_live_invalidate
from promotions.exceptions import (
    CouponBelowMinSpend,
    CouponClaimLimit,
    CouponExpired,
    CouponLoginRequired,
    CouponMemberLimit,
    CouponNotEligible,
    CouponNotYetValid,
    CouponNotYours,
    CouponOutOfScope,
    CouponSoldOut,
    CouponUnknown,
    CouponUsed,
    ExchangeAddressRequired,
    ExchangeItemNotFound,
    ExchangeLimit,
    ExchangeSoldOut,
    InvalidIdempotencyKey,
    PointsError,
    PointsInsufficient,
    PromotionExhausted,
)
from promotions.models import (
    Coupon,
    CouponCampaign,
    CouponRedemption,
    ExchangeItem,
    OrderDiscount,
    OrderDiscountLine,
    PointsAccount,
    PointsEntry,
    PointsExchange,
    Promotion,
)

ZERO = Decimal("0.00")
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
CODE_MAX = 32
IDEMPOTENCY_KEY_MAX = 64
REASON_MAX = 255
POINTS_MAX = 2**31 - 1  # PointsAccount.balance and PointsEntry.amount are 32-bit integers


def _is_member(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False)


def code_normalize(value) -> str:
    """A coupon code as stored: stripped, upper case, at most 32 characters ("" if none)."""
    if value is None:
        return ""
    return str(value).strip().upper()[: CODE_MAX + 1]


def _valid_code(code: str) -> bool:
    """Worth looking up: 1-32 printable characters (a NUL would upset PostgreSQL)."""
    return bool(code) and len(code) <= CODE_MAX and code.isprintable()


def _shown(code: str) -> str:
    return "".join(c for c in code if c.isprintable())[:CODE_MAX]


def code_make(prefix: str = "", length: int = 10) -> str:
    body = "".join(secrets.choice(CODE_ALPHABET) for _i in range(length))
    return f"{prefix}{body}"[:CODE_MAX]


def idempotency_key_clean(value) -> str | None:
    if value is None:
        return None
    key = str(value).strip()
    if not key:
        return None
    if len(key) > IDEMPOTENCY_KEY_MAX or not key.isprintable():
        raise InvalidIdempotencyKey(detail={"max_length": IDEMPOTENCY_KEY_MAX})
    return key


# --- points ---------------------------------------------------------------------------------


def points_value() -> int:
    """Points worth 1.00 when spent (``PROMOTIONS_POINTS_VALUE``)."""
    return int(settings.PROMOTIONS_POINTS_VALUE)


def points_to_money(points: int) -> Decimal:
    return (Decimal(points) / Decimal(points_value())).quantize(Decimal("0.01"), ROUND_DOWN)


def money_to_points(amount: Decimal) -> int:
    """Most points whose value does not exceed ``amount``."""
    return int((Decimal(amount) * points_value()).to_integral_value(ROUND_DOWN))


def _lot_expiry(now: datetime) -> datetime | None:
    months = int(settings.PROMOTIONS_POINTS_EXPIRY_MONTHS)
    return now + relativedelta(months=months) if months > 0 else None


def account_lock(user_id: int) -> PointsAccount:
    """The member's points account row, created if missing, locked until the transaction ends."""
    PointsAccount.objects.get_or_create(user_id=user_id)
    return PointsAccount.objects.select_for_update().get(user_id=user_id)


def _ref_taken(ref: str) -> bool:
    return bool(ref) and PointsEntry.objects.filter(ref=ref).exists()


def _credit(
    account: PointsAccount,
    *,
    amount: int,
    kind: str,
    reason: str,
    ref: str = "",
    order_id: int | None = None,
    by=None,
    now: datetime | None = None,
) -> PointsEntry | None:
    """Add a lot of ``amount`` points (caller holds the account lock); None if ``ref`` exists."""
    if amount <= 0 or _ref_taken(ref):
        return None
    if amount > POINTS_MAX - account.balance:  # the integer columns would overflow (a 500)
        raise PointsError(
            _("A balance cannot exceed %(max)s points.") % {"max": POINTS_MAX},
            detail={"balance": account.balance, "requested": amount},
        )
    now = now or timezone.now()
    PointsAccount.objects.filter(pk=account.pk).update(balance=F("balance") + amount)
    account.balance += amount
    return PointsEntry.objects.create(
        user_id=account.user_id,
        kind=kind,
        amount=amount,
        balance_after=account.balance,
        reason=reason[:REASON_MAX],
        ref=ref,
        order_id=order_id,
        expires_at=_lot_expiry(now),
        remaining=amount,
        created_by=by if getattr(by, "pk", None) else None,
        created_at=now,
    )


def _consume_lots(user_id: int, amount: int) -> None:
    """Take ``amount`` from the member's open lots, the earliest expiry first (FIFO)."""
    lots = (
        PointsEntry.objects.filter(user_id=user_id, remaining__gt=0)
        .order_by(F("expires_at").asc(nulls_last=True), "created_at", "id")
        .only("id", "remaining")
    )
    left = amount
    for lot in lots.iterator(chunk_size=200):
        if left <= 0:
            break
        take = min(lot.remaining, left)
        PointsEntry.objects.filter(pk=lot.pk, remaining__gte=take).update(
            remaining=F("remaining") - take
        )
        left -= take
    if left > 0:  # lots and balance disagree: refuse rather than go negative
        raise PointsInsufficient()


def _debit(
    account: PointsAccount,
    *,
    amount: int,
    kind: str,
    reason: str,
    ref: str = "",
    order_id: int | None = None,
    by=None,
    now: datetime | None = None,
) -> PointsEntry | None:
    """Take ``amount`` points (caller holds the account lock); ``PointsInsufficient`` when
    the balance is lower; None if ``ref`` exists."""
    if amount <= 0 or _ref_taken(ref):
        return None
    taken = PointsAccount.objects.filter(pk=account.pk, balance__gte=amount).update(
        balance=F("balance") - amount
    )
    if not taken:
        raise PointsInsufficient(
            _("You have only %(balance)s points.") % {"balance": account.balance},
            detail={"balance": account.balance, "requested": amount},
        )
    account.balance -= amount
    _consume_lots(account.user_id, amount)
    return PointsEntry.objects.create(
        user_id=account.user_id,
        kind=kind,
        amount=-amount,
        balance_after=account.balance,
        reason=reason[:REASON_MAX],
        ref=ref,
        order_id=order_id,
        created_by=by if getattr(by, "pk", None) else None,
        created_at=now or timezone.now(),
    )


def points_adjust(*, user_id: int, amount: int, reason: str, by=None) -> PointsEntry:
    """Staff bonus (positive) or correction (negative) with a required reason.

    A deduction beyond the balance raises ``PointsInsufficient``.
    """
    reason = (reason or "").strip()
    if not reason:
        raise PointsError(_("Give a reason for the adjustment."), code="reason_required")
    if isinstance(amount, bool) or not isinstance(amount, int) or amount == 0:
        raise PointsError(_("Enter a whole number of points other than 0."))
    if abs(amount) > POINTS_MAX:
        raise PointsError(detail={"max": POINTS_MAX})
    with transaction.atomic():
        account = account_lock(user_id)
        if amount > 0:
            return _credit(
                account, amount=amount, kind=PointsEntry.Kind.ADJUST, reason=reason, by=by
            )
        return _debit(account, amount=-amount, kind=PointsEntry.Kind.ADJUST, reason=reason, by=by)


def points_spend(*, user_id: int, points: int, order_id: int, reason: str) -> PointsEntry | None:
    """Spend points on an order (checkout commit): one entry per order."""
    account = account_lock(user_id)
    return _debit(
        account,
        amount=points,
        kind=PointsEntry.Kind.SPEND,
        reason=reason,
        ref=f"spend:order:{order_id}",
        order_id=order_id,
    )


def _earn_base(order) -> Decimal:
    """What the member paid for the goods, less what was refunded (shipping earns nothing)."""
    base = ZERO
    for item in order.items.all():
        base += max(item.line_total - item.discount - item.refunded_amount, ZERO)
    return base


def points_earn_for_order(*, order_id: int) -> PointsEntry | None:
    """Points for a completed order: floor(paid × rate × the member's multiplier); once."""
    from orders.models import Order

    with transaction.atomic():
        order = Order.objects.filter(pk=order_id).first()
        if order is None or order.status != Order.Status.COMPLETED:
            return None
        rate = Decimal(str(settings.PROMOTIONS_POINTS_EARN_RATE))
        multiplier = points_multiplier(order.user)
        points = math.floor(_earn_base(order) * rate * multiplier)
        if points <= 0:
            return None
        account = account_lock(order.user_id)
        return _credit(
            account,
            amount=points,
            kind=PointsEntry.Kind.EARN,
            reason=_("Order %(number)s completed") % {"number": order.number},
            ref=f"earn:order:{order.pk}",
            order_id=order.pk,
        )


def _order_points(order_id: int, kind: str) -> int:
    total = PointsEntry.objects.filter(order_id=order_id, kind=kind).aggregate(s=Sum("amount"))
    return abs(total["s"] or 0)


def points_expire_member(*, user_id: int, now: datetime | None = None) -> int:
    """Expire the member's lots past their date (what is left of them); idempotent."""
    now = now or timezone.now()
    expired = 0
    with transaction.atomic():
        account = account_lock(user_id)
        lots = list(
            PointsEntry.objects.filter(
                user_id=user_id, remaining__gt=0, expires_at__isnull=False, expires_at__lte=now
            ).order_by("expires_at", "id")
        )
        for lot in lots:
            points = lot.remaining
            PointsEntry.objects.filter(pk=lot.pk).update(remaining=0)
            taken = PointsAccount.objects.filter(pk=account.pk, balance__gte=points).update(
                balance=F("balance") - points
            )
            if not taken:  # cannot happen: open lots never exceed the balance
                raise PointsInsufficient()
            account.balance -= points
            PointsEntry.objects.create(
                user_id=user_id,
                kind=PointsEntry.Kind.EXPIRE,
                amount=-points,
                balance_after=account.balance,
                reason=_("Points earned on %(date)s expired")
                % {"date": timezone.localdate(lot.created_at).isoformat()},
                ref=f"expire:lot:{lot.pk}",
                created_at=now,
            )
            expired += points
    return expired


def points_expire_due(*, now: datetime | None = None) -> dict:
    """Expire every member's due lots (the beat task); returns members and points."""
    now = now or timezone.now()
    user_ids = (
        PointsEntry.objects.filter(remaining__gt=0, expires_at__isnull=False, expires_at__lte=now)
        .values_list("user_id", flat=True)
        .distinct()
    )
    members = points = 0
    for user_id in list(user_ids):
        got = points_expire_member(user_id=user_id, now=now)
        if got:
            members += 1
            points += got
    return {"members": members, "points": points}


# --- recording discounts on orders ----------------------------------------------------------------


def _record(placement, *, source: str, promotion=None, coupon=None, points: int = 0):
    discount = placement.discount
    record = OrderDiscount.objects.create(
        order=placement.order,
        user_id=placement.user.pk,
        source=source,
        code=discount.code[:40],
        label=str(discount.label)[:200],
        amount=discount.amount,
        promotion=promotion,
        coupon=coupon,
        points=points,
    )
    OrderDiscountLine.objects.bulk_create(
        OrderDiscountLine(discount=record, item_id=placement.item_ids[pid], amount=share)
        for pid, share in sorted(discount.allocations.items())
        if share
    )
    return record


def promotion_commit(placement) -> OrderDiscount:
    """Book a promotion's use on a new order: per-member limit, use count and budget
    (guarded), and the record. ``PromotionExhausted`` (409) rolls the order back."""
    discount = placement.discount
    promotion_id = discount.meta["promotion_id"]
    account_lock(placement.user.pk)
    promotion = Promotion.objects.get(pk=promotion_id)
    if promotion.per_member_limit:
        used = selectors.promotion_uses_by_member(user=placement.user, promotion_ids=[promotion_id])
        if used.get(promotion_id, 0) >= promotion.per_member_limit:
            raise PromotionExhausted(detail={"promotion": promotion.code, "reason": "member_limit"})
    guard = Q(pk=promotion_id, is_active=True)
    if promotion.budget is not None:
        guard &= Q(spent__lte=F("budget") - discount.amount)
    taken = Promotion.objects.filter(guard).update(
        uses=F("uses") + 1, spent=F("spent") + discount.amount
    )
    if not taken:
        promotions_live_invalidate()  # priced from a set that no longer holds
        raise PromotionExhausted(detail={"promotion": promotion.code, "reason": "budget_spent"})
    return _record(placement, source=OrderDiscount.Source.PROMOTION, promotion=promotion)


def free_shipping_commit(placement) -> OrderDiscount:
    """Record that a free-shipping promotion waived the fee of a new order (source
    "shipping", the waived fee as amount, no order lines: it is not part of the order's
    discount_total): per-member limit, use count and budget like ``promotion_commit``."""
    discount = placement.discount
    promotion_id = discount.meta["promotion_id"]
    account_lock(placement.user.pk)
    promotion = Promotion.objects.get(pk=promotion_id)
    if promotion.per_member_limit:
        used = selectors.promotion_uses_by_member(user=placement.user, promotion_ids=[promotion_id])
        if used.get(promotion_id, 0) >= promotion.per_member_limit:
            raise PromotionExhausted(detail={"promotion": promotion.code, "reason": "member_limit"})
    guard = Q(pk=promotion_id, is_active=True)
    if promotion.budget is not None:
        guard &= Q(spent__lte=F("budget") - discount.amount)
    if not Promotion.objects.filter(guard).update(
        uses=F("uses") + 1, spent=F("spent") + discount.amount
    ):
        promotions_live_invalidate()  # priced from a set that no longer holds
        raise PromotionExhausted(detail={"promotion": promotion.code, "reason": "budget_spent"})
    return _record(placement, source=OrderDiscount.Source.SHIPPING, promotion=promotion)


def points_commit(placement) -> OrderDiscount:
    """Spend the points of a new order (balance guard under the account lock)."""
    points = int(placement.discount.meta["points"])
    points_spend(
        user_id=placement.user.pk,
        points=points,
        order_id=placement.order.pk,
        reason=_("Used on order %(number)s") % {"number": placement.order.number},
    )
    return _record(placement, source=OrderDiscount.Source.POINTS, points=points)


# --- coupons ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResolvedCoupon:
    """A code as the checkout may use it: a coupon row, or a public code to claim on use."""

    code: str
    campaign: CouponCampaign
    coupon: Coupon | None


def _campaign_checks(campaign: CouponCampaign, user, now: datetime) -> None:
    if not campaign.is_active or (campaign.ends_at and now >= campaign.ends_at):
        raise CouponExpired(
            detail={"ends_at": campaign.ends_at.isoformat() if campaign.ends_at else None}
        )
    if campaign.starts_at > now:
        raise CouponNotYetValid(
            _("This coupon is valid from %(date)s.")
            % {"date": timezone.localtime(campaign.starts_at).strftime("%Y-%m-%d %H:%M")},
            detail={"starts_at": campaign.starts_at.isoformat()},
        )
    if campaign.has_audience and not audience_matches(campaign, member_audience(user)):
        raise CouponNotEligible()
    if campaign.total_limit is not None and campaign.used_count >= campaign.total_limit:
        raise CouponSoldOut()
    if campaign.per_member_limit is not None:
        used = selectors.campaign_redemptions_by_member(user=user, campaign_id=campaign.pk)
        if used >= campaign.per_member_limit:
            raise CouponMemberLimit(detail={"limit": campaign.per_member_limit})


def coupon_resolve(*, code, user, now: datetime | None = None) -> ResolvedCoupon:
    """Check that ``user`` may use ``code`` now (everything but the cart): raises the
    specific ``CouponError`` (unknown, expired, not yet valid, used, not yours...)."""
    now = now or timezone.now()
    code = code_normalize(code)
    if not _valid_code(code):
        raise CouponUnknown(detail={"code": _shown(code)})
    if not _is_member(user):
        raise CouponLoginRequired()
    coupon = selectors.coupon_by_code(code)
    if coupon is not None:
        if coupon.owner_id is not None and coupon.owner_id != user.pk:
            raise CouponNotYours()
        if coupon.is_used_up:
            raise CouponUsed()
        if coupon.is_expired(now):
            raise CouponExpired(detail={"ends_at": coupon.expires_at.isoformat()})
        _campaign_checks(coupon.campaign, user, now)
        return ResolvedCoupon(code=code, campaign=coupon.campaign, coupon=coupon)
    campaign = selectors.campaign_by_public_code(code)
    if campaign is None:
        raise CouponUnknown(detail={"code": code})
    _campaign_checks(campaign, user, now)
    own = (
        Coupon.objects.filter(owner=user, campaign=campaign, used_count__lt=F("max_uses"))
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .order_by(F("expires_at").asc(nulls_last=True), "id")
        .first()
    )
    if own is not None:
        own.campaign = campaign
    return ResolvedCoupon(code=code, campaign=campaign, coupon=own)


def coupon_rule(campaign: CouponCampaign) -> rules.Rule:
    """The campaign's value and conditions as an engine rule."""
    if campaign.kind == CouponCampaign.Kind.PERCENT:
        benefit: rules.Benefit = rules.PercentOff(percent=campaign.value, cap=campaign.max_discount)
    else:
        benefit = rules.FixedOff(value=campaign.value)
    return rules.Rule(
        id=campaign.pk,
        code=f"campaign-{campaign.pk}",
        label=campaign.display_name,
        benefit=benefit,
        scope=selectors.campaign_scope(campaign),
        condition=rules.MinSpend(campaign.min_spend or ZERO),
    )


def coupon_evaluate(resolved: ResolvedCoupon, lines, payables) -> rules.Outcome:
    """What the coupon takes off these lines; ``CouponOutOfScope`` / ``CouponBelowMinSpend``."""
    from catalog.money import format_money

    outcome = coupon_rule(resolved.campaign).evaluate(lines, payables)
    if outcome.reason == "out_of_scope":
        raise CouponOutOfScope()
    if outcome.reason == "below_min_spend" or outcome.amount <= 0:
        missing = outcome.missing or ZERO
        raise CouponBelowMinSpend(
            _("Spend %(amount)s more on eligible items to use this coupon (minimum %(min)s).")
            % {"amount": format_money(missing), "min": format_money(resolved.campaign.min_spend)},
            detail={"min_spend": str(resolved.campaign.min_spend), "missing": str(missing)},
        )
    return outcome


def coupon_expiry(campaign: CouponCampaign, start: datetime) -> datetime | None:
    """A wallet coupon's own expiry: ``valid_days`` after ``start`` (claim or issue)."""
    if not campaign.valid_days:
        return None
    try:
        return start + timedelta(days=campaign.valid_days)
    except OverflowError:  # past year 9999 (valid_days is a 32-bit field): no end of its own
        return None


def _coupon_new(campaign: CouponCampaign, *, owner=None, source: str, batch: str = "") -> Coupon:
    now = timezone.now()
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return Coupon.objects.create(
                    campaign=campaign,
                    code=code_make(),
                    owner=owner,
                    source=source,
                    batch=batch,
                    claimed_at=now if owner is not None else None,
                    expires_at=coupon_expiry(campaign, now) if owner is not None else None,
                )
        except IntegrityError:
            continue
    raise RuntimeError("could not draw a free coupon code")


def coupon_commit(placement) -> OrderDiscount:
    """Redeem the coupon of a new order: claim a public code if needed, then guarded
    updates of the coupon's and the campaign's use counts, the per-member limit under
    the member's lock, a ``CouponRedemption`` and the record. Refusals roll back."""
    meta = placement.discount.meta
    user = placement.user
    account_lock(user.pk)
    campaign = CouponCampaign.objects.get(pk=meta["campaign_id"])
    if campaign.per_member_limit is not None:
        used = selectors.campaign_redemptions_by_member(user=user, campaign_id=campaign.pk)
        if used >= campaign.per_member_limit:
            raise CouponMemberLimit(detail={"limit": campaign.per_member_limit})
    if meta.get("coupon_id"):
        coupon = Coupon.objects.get(pk=meta["coupon_id"])
        if coupon.is_expired():
            raise CouponExpired(detail={"ends_at": coupon.expires_at.isoformat()})
    else:
        coupon = _coupon_new(campaign, owner=user, source=Coupon.Source.CLAIMED)
        CouponCampaign.objects.filter(pk=campaign.pk).update(issued_count=F("issued_count") + 1)
    owner_ok = Q(owner__isnull=True) | Q(owner=user)
    taken = Coupon.objects.filter(owner_ok, pk=coupon.pk, used_count__lt=F("max_uses")).update(
        used_count=F("used_count") + 1
    )
    if not taken:
        raise CouponUsed()
    guard = Q(pk=campaign.pk)
    if campaign.total_limit is not None:
        guard &= Q(used_count__lt=F("total_limit"))
    if not CouponCampaign.objects.filter(guard).update(used_count=F("used_count") + 1):
        raise CouponSoldOut()
    CouponRedemption.objects.create(
        coupon=coupon,
        campaign=campaign,
        user_id=user.pk,
        order=placement.order,
        amount=placement.discount.amount,
    )
    return _record(placement, source=OrderDiscount.Source.COUPON, coupon=coupon)


def coupons_generate(*, campaign_id: int, count: int, prefix: str = "", batch: str = "") -> int:
    """Generate ``count`` single-use codes (not in anyone's wallet) for a campaign.

    Codes are random (ambiguous characters left out), unique by constraint;
    returns how many were created.
    """
    if count < 1 or count > 100_000:
        raise ValueError("count must be 1 to 100000")
    prefix = code_normalize(prefix)[:12]
    batch = batch or timezone.now().strftime("%Y%m%d%H%M%S")
    campaign = CouponCampaign.objects.get(pk=campaign_id)
    created = 0
    with transaction.atomic():
        while created < count:
            wanted = min(count - created, 5000)
            codes = {code_make(prefix) for _i in range(wanted)}
            codes -= set(Coupon.objects.filter(code__in=codes).values_list("code", flat=True))
            Coupon.objects.bulk_create(
                [
                    Coupon(campaign=campaign, code=c, source=Coupon.Source.GENERATED, batch=batch)
                    for c in codes
                ]
            )
            created += len(codes)
    return created


def coupons_issue(*, campaign_id: int, user_ids: Iterable[int], batch: str = "") -> int:
    """Put one coupon of the campaign in each member's wallet (skipping members who
    already hold one from this batch); returns how many were issued."""
    from django.contrib.auth import get_user_model

    batch = batch or f"issue-{timezone.now():%Y%m%d%H%M%S}"
    wanted = {int(u) for u in user_ids}
    existing = set(
        get_user_model().objects.filter(pk__in=wanted, is_active=True).values_list("pk", flat=True)
    )
    with transaction.atomic():
        # The campaign's row lock serialises two deliveries of the same batch, so the
        # second sees the first one's coupons and skips those members.
        campaign = CouponCampaign.objects.select_for_update().get(pk=campaign_id)
        holders = set(
            Coupon.objects.filter(
                campaign=campaign, batch=batch, owner_id__in=existing
            ).values_list("owner_id", flat=True)
        )
        now = timezone.now()
        new = [
            Coupon(
                campaign=campaign,
                code=code_make(),
                owner_id=uid,
                source=Coupon.Source.ISSUED,
                batch=batch,
                claimed_at=now,
                expires_at=coupon_expiry(campaign, now),
            )
            for uid in sorted(existing - holders)
        ]
        Coupon.objects.bulk_create(new)
        CouponCampaign.objects.filter(pk=campaign.pk).update(
            issued_count=F("issued_count") + len(new)
        )
    return len(new)


def coupon_claim(*, user, code) -> Coupon:
    """Put a coupon in the member's wallet: a public code (one more coupon of its
    campaign, within the per-member limit) or an unclaimed generated code.

    Raises ``CouponUnknown``, ``CouponExpired``, ``CouponNotYetValid``,
    ``CouponNotEligible``, ``CouponSoldOut``, ``CouponUsed``, ``CouponNotYours``,
    ``CouponClaimLimit`` (409: already in the wallet as often as allowed).
    """
    now = timezone.now()
    code = code_normalize(code)
    if not _is_member(user):
        raise CouponLoginRequired()
    if not _valid_code(code):
        raise CouponUnknown(detail={"code": _shown(code)})
    with transaction.atomic():
        account_lock(user.pk)
        coupon = Coupon.objects.select_related("campaign").filter(code=code).first()
        if coupon is not None:
            if coupon.owner_id == user.pk:
                raise CouponClaimLimit()
            if coupon.owner_id is not None:
                raise CouponNotYours()
            if coupon.is_used_up:
                raise CouponUsed()
            _campaign_checks(coupon.campaign, user, now)
            expires_at = coupon_expiry(coupon.campaign, now)
            if not Coupon.objects.filter(pk=coupon.pk, owner__isnull=True).update(
                owner=user, claimed_at=now, expires_at=expires_at
            ):
                raise CouponNotYours()
            coupon.owner, coupon.claimed_at, coupon.expires_at = user, now, expires_at
            return coupon
        campaign = CouponCampaign.objects.filter(public_code=code).first()
        if campaign is None:
            raise CouponUnknown(detail={"code": code})
        _campaign_checks(campaign, user, now)
        if campaign.per_member_limit is not None:
            held = Coupon.objects.filter(owner=user, campaign=campaign).count()
            if held >= campaign.per_member_limit:
                raise CouponClaimLimit(detail={"limit": campaign.per_member_limit})
        coupon = _coupon_new(campaign, owner=user, source=Coupon.Source.CLAIMED)
        CouponCampaign.objects.filter(pk=campaign.pk).update(issued_count=F("issued_count") + 1)
        return coupon


# --- reactions to orders -------------------------------------------------------------------


PROMOTION_SOURCES = (OrderDiscount.Source.PROMOTION, OrderDiscount.Source.SHIPPING)


def _return_record(record: OrderDiscount, *, coupon_policy: bool) -> bool:
    """Give back what one record took (promotion use and budget, coupon use when the
    policy says so); True when this call returned it."""
    if record.source == OrderDiscount.Source.COUPON and not coupon_policy:
        return False
    flipped = OrderDiscount.objects.filter(pk=record.pk, status=OrderDiscount.Status.ACTIVE).update(
        status=OrderDiscount.Status.RETURNED
    )
    if not flipped:
        return False
    if record.source in PROMOTION_SOURCES and record.promotion_id:
        Promotion.objects.filter(
            pk=record.promotion_id, uses__gte=1, spent__gte=record.amount
        ).update(uses=F("uses") - 1, spent=F("spent") - record.amount)
    elif record.source == OrderDiscount.Source.COUPON and record.coupon_id:
        redemption = CouponRedemption.objects.filter(
            order_id=record.order_id,
            coupon_id=record.coupon_id,
            status=CouponRedemption.Status.ACTIVE,
        ).first()
        if redemption is not None:
            CouponRedemption.objects.filter(pk=redemption.pk).update(
                status=CouponRedemption.Status.RETURNED, returned_at=timezone.now()
            )
            Coupon.objects.filter(pk=record.coupon_id, used_count__gte=1).update(
                used_count=F("used_count") - 1
            )
            CouponCampaign.objects.filter(pk=redemption.campaign_id, used_count__gte=1).update(
                used_count=F("used_count") - 1
            )
    return True


def _points_back(order, *, target_returned: int, ref: str, reason: str) -> PointsEntry | None:
    """Return spent points up to ``target_returned`` in total for the order."""
    already = _order_points(order.pk, PointsEntry.Kind.RETURN)
    due = target_returned - already
    if due <= 0:
        return None
    account = account_lock(order.user_id)
    return _credit(
        account, amount=due, kind=PointsEntry.Kind.RETURN, reason=reason, ref=ref, order_id=order.pk
    )


def order_cancelled_returns(*, order_id: int) -> dict:
    """An order was cancelled: points spent come back, promotion uses and budget too,
    and the coupon if its campaign returns on cancellation. Idempotent."""
    from orders.models import Order

    with transaction.atomic():
        order = Order.objects.filter(pk=order_id, status=Order.Status.CANCELLED).first()
        if order is None:
            return {}
        account_lock(order.user_id)
        result = {"records": 0, "points": 0}
        for record in OrderDiscount.objects.filter(order=order).select_related("coupon__campaign"):
            policy = bool(record.coupon_id and record.coupon.campaign.return_on_cancel)
            if record.source == OrderDiscount.Source.POINTS:
                continue
            result["records"] += _return_record(record, coupon_policy=policy)
        spent = _order_points(order.pk, PointsEntry.Kind.SPEND)
        entry = _points_back(
            order,
            target_returned=spent,
            ref=f"return:order:{order.pk}:cancel",
            reason=_("Order %(number)s cancelled") % {"number": order.number},
        )
        if spent and entry is not None:
            OrderDiscount.objects.filter(order=order, source=OrderDiscount.Source.POINTS).update(
                status=OrderDiscount.Status.RETURNED
            )
            result["points"] = entry.amount
    return result


def _share_since_earn(order, *, full: bool) -> Decimal:
    """Share of what the member had paid at completion (the earn base) refunded since:
    refunds before completion were already left out of the points earned."""
    from orders.models import Refund

    earn = PointsEntry.objects.filter(order=order, kind=PointsEntry.Kind.EARN).first()
    if earn is None:
        return Decimal(0)
    if full:
        return Decimal(1)
    before = after = ZERO
    for amount, at in Refund.objects.filter(order=order).values_list("amount", "created_at"):
        if at <= earn.created_at:
            before += amount
        else:
            after += amount
    paid_at_earn = order.total - before
    return Decimal(1) if paid_at_earn <= 0 else min(Decimal(1), after / paid_at_earn)


def order_refunded_returns(*, order_id: int, refund_id: int) -> dict:
    """A refund: reverse earned points pro rata to the money refunded since they were
    earned, and return spent points pro rata to the money refunded so far (all of them
    once the order is fully refunded); on a full refund,
    promotion uses come back and the coupon if its campaign says so. Idempotent per refund.

    Earned points are reversed only as far as the balance allows (it never goes
    negative); what could not be taken back is named in the entry's reason.
    """
    from orders.models import Order

    with transaction.atomic():
        order = Order.objects.filter(pk=order_id).first()
        if order is None:
            return {}
        account = account_lock(order.user_id)
        full = order.status == Order.Status.REFUNDED
        share = Decimal(1) if full or order.total <= 0 else order.refunded_total / order.total
        result = {"reversed": 0, "returned": 0}

        earned = _order_points(order.pk, PointsEntry.Kind.EARN)
        reversed_ = _order_points(order.pk, PointsEntry.Kind.REVERSE)
        due = math.floor(earned * _share_since_earn(order, full=full)) - reversed_
        ref = f"reverse:refund:{refund_id}"
        if due > 0 and not _ref_taken(ref):
            take = min(due, account.balance)
            reason = _("Refund on order %(number)s") % {"number": order.number}
            if take < due:
                reason += " " + _("(%(short)s points already spent)") % {"short": due - take}
            if take > 0:
                _debit(
                    account,
                    amount=take,
                    kind=PointsEntry.Kind.REVERSE,
                    reason=reason,
                    ref=ref,
                    order_id=order.pk,
                )
                result["reversed"] = take

        spent = _order_points(order.pk, PointsEntry.Kind.SPEND)
        entry = _points_back(
            order,
            target_returned=math.floor(spent * share),
            ref=f"return:refund:{refund_id}",
            reason=_("Points back for the refund on order %(number)s") % {"number": order.number},
        )
        if entry is not None:
            result["returned"] = entry.amount
        if full:
            for record in OrderDiscount.objects.filter(order=order).select_related(
                "coupon__campaign"
            ):
                if record.source == OrderDiscount.Source.POINTS:
                    continue
                policy = bool(record.coupon_id and record.coupon.campaign.return_on_refund)
                _return_record(record, coupon_policy=policy)
    return result


# --- points exchange -----------------------------------------------------------------------


def _ship_to(user) -> str:
    address = account_selectors.address_default(user=user)
    if address is None:
        raise ExchangeAddressRequired()
    parts = [
        address.recipient_name,
        address.phone,
        address.line1,
        address.line2,
        address.district,
        address.city,
        address.province,
        address.postal_code,
        address.country,
    ]
    return ", ".join(p for p in parts if p)[:400]


def points_exchange(*, user, item_id, idempotency_key=None) -> PointsExchange:
    """Exchange points for an item (积分兑换): a coupon into the wallet, or a gift that
    staff ship to the member's default address (status ``to_ship``).

    Under the member's account lock and the item's row lock: the per-member limit,
    the balance, a guarded stock decrement, the points debit (``exchange`` entry)
    and the exchange row. A repeated ``idempotency_key`` returns the first exchange
    (``replayed`` True). Raises ``ExchangeItemNotFound`` (404), ``ExchangeSoldOut``,
    ``ExchangeLimit``, ``PointsInsufficient`` (409), ``ExchangeAddressRequired``.
    """
    key = idempotency_key_clean(idempotency_key)
    try:
        pk = int(item_id)
    except (TypeError, ValueError):
        raise ExchangeItemNotFound() from None
    if not 0 < pk < 2**63:
        raise ExchangeItemNotFound()

    def replay():
        found = (
            PointsExchange.objects.filter(user=user, idempotency_key=key).first() if key else None
        )
        if found is not None:
            found.replayed = True
        return found

    found = replay()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            account = account_lock(user.pk)
            found = replay()
            if found is not None:
                return found
            item = ExchangeItem.objects.select_for_update().filter(pk=pk, is_active=True).first()
            if item is None:
                raise ExchangeItemNotFound()
            if item.kind == ExchangeItem.Kind.COUPON:
                campaign = item.campaign
                if not campaign.is_active or (
                    campaign.ends_at is not None and timezone.now() >= campaign.ends_at
                ):  # its coupon would be born expired: not on offer (as in the catalogue)
                    raise ExchangeItemNotFound()
            if item.per_member_limit is not None:
                done = selectors.exchange_count_by_member(user=user, item_id=item.pk)
                if done >= item.per_member_limit:
                    raise ExchangeLimit(detail={"limit": item.per_member_limit})
            if account.balance < item.points_cost:
                raise PointsInsufficient(
                    _("This needs %(cost)s points; you have %(balance)s.")
                    % {"cost": item.points_cost, "balance": account.balance},
                    detail={"balance": account.balance, "cost": item.points_cost},
                )
            ship_to = _ship_to(user) if item.kind == ExchangeItem.Kind.GIFT else ""
            if not ExchangeItem.objects.filter(pk=item.pk, stock__gte=1).update(
                stock=F("stock") - 1
            ):
                raise ExchangeSoldOut()
            exchange = PointsExchange.objects.create(
                user=user,
                item=item,
                points=item.points_cost,
                status=PointsExchange.Status.TO_SHIP
                if item.kind == ExchangeItem.Kind.GIFT
                else PointsExchange.Status.DONE,
                ship_to=ship_to,
                idempotency_key=key,
            )
            _debit(
                account,
                amount=item.points_cost,
                kind=PointsEntry.Kind.EXCHANGE,
                reason=_("Exchanged for %(item)s") % {"item": item.name},
                ref=f"exchange:{exchange.pk}",
            )
            if item.kind == ExchangeItem.Kind.COUPON:
                exchange.coupon = _coupon_new(
                    item.campaign, owner=user, source=Coupon.Source.EXCHANGE
                )
                CouponCampaign.objects.filter(pk=item.campaign_id).update(
                    issued_count=F("issued_count") + 1
                )
                exchange.save(update_fields=["coupon"])
    except IntegrityError:
        found = replay()
        if found is None:
            raise
        return found
    exchange.replayed = False
    return exchange


def exchange_mark_shipped(*, exchange_id: int, tracking_number: str = "") -> bool:
    """Staff: a gift left the warehouse (``to_ship`` → ``shipped``)."""
    return bool(
        PointsExchange.objects.filter(pk=exchange_id, status=PointsExchange.Status.TO_SHIP).update(
            status=PointsExchange.Status.SHIPPED,
            shipped_at=timezone.now(),
            tracking_number=(tracking_number or "")[:64],
        )
    )
