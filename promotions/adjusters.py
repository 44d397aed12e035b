"""The pricing adjusters of promotions, coupons and points (``settings.PRICING_ADJUSTERS``).

Each is ``adjuster(ctx) -> [Discount]`` on ``orders.pricing``'s context, which
this module never imports: it reads ``ctx.lines`` / ``ctx.payable`` /
``ctx.user`` / ``ctx.options`` and builds discounts with ``ctx.discount``.
Order in the pipeline: promotions, then coupons, then points (points last,
capped at ``PROMOTIONS_POINTS_MAX_SHARE`` of what is still payable). A bad
coupon code or points amount is *rejected* (``ctx.reject``) with its domain
error: the cart shows why, checkout refuses with the error's 4xx code. Each
discount carries a ``commit`` callback (``promotions.services``) that checkout
runs inside the order's transaction.

All promotion rule evaluation goes through ``promotions_evaluate`` (one place,
for the experiments issue's holdout groups later).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import ROUND_DOWN, Decimal

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from catalog.money import format_money
from config.api.errors import DomainError
from promotions import rules, selectors, services
from promotions.audience import member_audience
from promotions.exceptions import (
    PointsError,
    PointsInsufficient,
    PointsLoginRequired,
    PointsOverLimit,
)

ZERO = Decimal("0.00")
MAX_HINTS = 2

REASONS = {
    "out_of_scope": gettext_lazy("Not for the items in your cart."),
    "below_min_spend": gettext_lazy("Spend %(amount)s more to qualify."),
    "member_limit": gettext_lazy("You have used this promotion as often as allowed."),
    "budget_spent": gettext_lazy("This promotion has run out."),
    "exclusive": gettext_lazy("Cannot be combined with the promotions applied."),
    "better_combination": gettext_lazy("Another combination saves you more."),
    "not_reached_after_other_discounts": gettext_lazy(
        "Not reached once the other discounts are taken off."
    ),
}


def _is_member(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False)


def _lines(ctx) -> list[rules.Line]:
    return [
        rules.Line(
            product_id=line.product_id,
            category_id=line.category_id,
            brand_id=line.brand_id,
            unit_price=line.unit_price,
            quantity=line.quantity,
        )
        for line in ctx.lines
    ]


def _payables(ctx) -> dict[int, Decimal]:
    return {line.product_id: ctx.payable(line.product_id) for line in ctx.lines}


def _describe(reason: str, outcome: rules.Outcome) -> str:
    if not reason:
        return ""
    text = REASONS.get(reason)
    if text is None:
        return ""
    if reason == "below_min_spend":
        return str(text) % {"amount": format_money(outcome.missing or ZERO)}
    return str(text)


def promotions_evaluate(
    *, user, lines, payables
) -> tuple[selectors.LoadedPromotions, rules.Choice]:
    """Load the member's live promotions and choose the best combination for these lines."""
    loaded = selectors.promotion_rules(user=user, audience=member_audience(user))
    choice = rules.choose(loaded.rules, lines, payables, describe=_describe)
    return loaded, choice


def _explain_members_only(loaded, choice, lines, payables) -> None:
    """A promotion limited per member is for members only: a visitor's cart shows it
    unapplied, with its limit and what it would save once logged in."""
    by_code = {p.code: p for p in loaded.by_id.values()}
    rules_by_code = {r.code: r for r in loaded.rules}
    for row in choice.explanation:
        if row.get("reason") != "members_only":
            continue
        limit = by_code[row["code"]].per_member_limit
        would_save = replace(rules_by_code[row["code"]], blocked="").evaluate(lines, payables)
        row["limit"] = limit
        row["amount"] = would_save.amount
        row["message"] = ngettext(
            "Members only, limit %(limit)s per member: log in to use it.",
            "Members only, limit %(limit)s per member: log in to use it.",
            limit,
        ) % {"limit": limit}


# What the promotions adjuster decided about a coupon that cannot be combined with
# promotions, kept on the pricing context for the coupon adjuster that runs next.
STATE = "_promotions_coupon_choice"


@dataclass(frozen=True)
class CouponChoice:
    """Promotions or a non-combinable coupon, whichever saves more (promotions on a tie)."""

    mode: str  # "promotions_only" or "coupon_only"
    promotions: Decimal
    coupon: Decimal


RESOLVED = "_promotions_coupon_resolved"


def _coupon_resolved(ctx, code: str) -> services.ResolvedCoupon:
    """``services.coupon_resolve`` once per pricing (both adjusters need it): the result or
    the domain error is kept on the context."""
    kept = getattr(ctx, RESOLVED, None)
    if kept is None or kept[0] != code:
        try:
            kept = (code, services.coupon_resolve(code=code, user=ctx.user), None)
        except DomainError as exc:
            kept = (code, None, exc)
        setattr(ctx, RESOLVED, kept)
    _code, resolved, error = kept
    if error is not None:
        raise error
    return resolved


def _lone_coupon(ctx) -> tuple[services.ResolvedCoupon, Decimal] | None:
    """The cart's coupon when it cannot be combined with promotions, with what it saves
    alone (on the full prices); None when there is none, it combines, or it is refused
    (the coupon adjuster reports why)."""
    code = services.code_normalize(ctx.options.get("coupon"))
    if not code or not _is_member(ctx.user):
        return None
    try:
        resolved = _coupon_resolved(ctx, code)
        if resolved.campaign.combinable_with_promotions:
            return None
        outcome = services.coupon_evaluate(resolved, _lines(ctx), _payables(ctx))
    except DomainError:
        return None
    return resolved, outcome.amount


def _mark_not_chosen_for_coupon(choice: rules.Choice, coupon_amount: Decimal) -> None:
    message = _(
        "Your coupon cannot be combined with promotions and saves you more (%(amount)s)."
    ) % {"amount": format_money(coupon_amount)}
    for row in choice.explanation:
        if row.get("status") == "applied":
            row.update(status="not_chosen", reason="coupon_not_combinable", message=message)


def promotions_adjuster(ctx):
    if not ctx.lines:
        return []
    loaded, choice = promotions_evaluate(user=ctx.user, lines=_lines(ctx), payables=_payables(ctx))
    lone = _lone_coupon(ctx) if choice.applied else None
    if lone is not None:
        _resolved, coupon_amount = lone
        coupon_wins = coupon_amount > choice.total
        setattr(
            ctx,
            STATE,
            CouponChoice(
                mode="coupon_only" if coupon_wins else "promotions_only",
                promotions=choice.total,
                coupon=coupon_amount,
            ),
        )
        if coupon_wins:
            _mark_not_chosen_for_coupon(choice, coupon_amount)
            choice = replace(choice, applied=[], hints=[])
    lines = _lines(ctx)
    for promotion in loaded.free_shipping:
        scope = loaded.scopes.get(promotion.pk) or rules.Scope()
        ctx.offer_free_shipping(
            threshold=promotion.min_spend or ZERO,
            source="promotion",
            code=promotion.code,
            label=promotion.display_name,
            # scoped: judged on the discounted payable of the items in scope only
            product_ids=None
            if scope.is_everything
            else [line.product_id for line in scope.lines(lines)],
            meta={"promotion_id": promotion.pk},
            commit=services.free_shipping_commit,
        )
    _explain_members_only(loaded, choice, _lines(ctx), _payables(ctx))
    for row in choice.explanation:
        ctx.explain(source="promotion", **row)
    for rule, missing, saving in choice.hints[:MAX_HINTS]:
        ctx.hint(
            code="promotion_threshold",
            message=_("Spend %(amount)s more to save %(saving)s (%(promotion)s).")
            % {
                "amount": format_money(missing),
                "saving": format_money(saving),
                "promotion": rule.label,
            },
            amount=missing,
        )
    # Committed (and their rows locked) in promotion pk order, whatever the engine order.
    return [
        ctx.discount(
            source="promotion",
            code=applied.rule.code,
            label=applied.rule.label,
            allocations=applied.allocations,
            meta={"promotion_id": applied.rule.id},
            commit=services.promotion_commit,
        )
        for applied in sorted(choice.applied, key=lambda a: a.rule.id)
    ]


def coupon_adjuster(ctx):
    code = services.code_normalize(ctx.options.get("coupon"))
    if not code or not ctx.lines:
        return []
    try:
        resolved = _coupon_resolved(ctx, code)
        outcome = services.coupon_evaluate(resolved, _lines(ctx), _payables(ctx))
    except DomainError as exc:
        ctx.reject("coupon", exc)
        return []
    label = _("Coupon %(code)s: %(name)s") % {"code": code, "name": resolved.campaign.display_name}
    decided = getattr(ctx, STATE, None)
    if decided is not None and decided.mode == "promotions_only":
        ctx.explain(
            source="coupon",
            code=code,
            label=label,
            status="not_chosen",
            reason="promotions_better",
            amount=decided.coupon,
            message=_(
                "This coupon cannot be combined with promotions; the promotions save you more "
                "(%(promotions)s against %(coupon)s), so the coupon stays unused."
            )
            % {
                "promotions": format_money(decided.promotions),
                "coupon": format_money(decided.coupon),
            },
        )
        return []
    row = {}
    if decided is not None:  # coupon_only
        row = {
            "reason": "coupon_better",
            "message": _(
                "This coupon cannot be combined with promotions; it saves you more than they "
                "would (%(coupon)s against %(promotions)s), so the promotions are left out."
            )
            % {
                "promotions": format_money(decided.promotions),
                "coupon": format_money(decided.coupon),
            },
        }
    ctx.explain(
        source="coupon", code=code, label=label, status="applied", amount=outcome.amount, **row
    )
    return [
        ctx.discount(
            source="coupon",
            code=code,
            label=label,
            allocations=outcome.allocations,
            meta={
                "campaign_id": resolved.campaign.pk,
                "coupon_id": resolved.coupon.pk if resolved.coupon else None,
            },
            commit=services.coupon_commit,
        )
    ]


def parse_points(raw) -> int:
    """Points from a form or JSON value: a whole number >= 0 (empty = 0)."""
    if raw is None or raw == "":
        return 0
    if isinstance(raw, bool | float):
        raise PointsError(detail={"points": str(raw)[:20]})
    try:
        points = int(str(raw).strip())
    except (TypeError, ValueError):
        raise PointsError(detail={"points": str(raw)[:20]}) from None
    if points < 0 or points > 10**12:
        raise PointsError(detail={"points": str(raw)[:20]})
    return points


def points_adjuster(ctx):
    try:
        points = parse_points(ctx.options.get("points"))
    except PointsError as exc:
        ctx.reject("points", exc)
        return []
    if not _is_member(ctx.user):
        if points:
            ctx.reject("points", PointsLoginRequired())
        return []
    if not ctx.lines:
        return []
    balance = selectors.points_balance(user=ctx.user)
    payable = sum(_payables(ctx).values(), ZERO)
    share = Decimal(str(settings.PROMOTIONS_POINTS_MAX_SHARE))
    max_amount = (payable * share).quantize(Decimal("0.01"), ROUND_DOWN)
    max_by_share = services.money_to_points(max_amount)
    usable = min(balance, max_by_share)
    ctx.explain(
        source="points",
        code="points",
        label=_("Points"),
        status="applied" if points else "available",
        balance=balance,
        max_points=usable,
        max_amount=services.points_to_money(usable),
        points_per_unit=services.points_value(),
        amount=ZERO,
    )
    if not points:
        return []
    if points > balance:
        ctx.reject(
            "points",
            PointsInsufficient(
                _("You have only %(balance)s points.") % {"balance": balance},
                detail={"balance": balance, "requested": points},
            ),
        )
        return []
    if points > max_by_share:
        ctx.reject(
            "points",
            PointsOverLimit(
                _(
                    "At most %(max)s points (%(amount)s) can be used on this order: "
                    "%(share)s%% of what is payable."
                )
                % {
                    "max": max_by_share,
                    "amount": format_money(services.points_to_money(max_by_share)),
                    "share": (share * 100).normalize(),
                },
                detail={"max_points": max_by_share, "requested": points},
            ),
        )
        return []
    amount = services.points_to_money(points)
    used = services.money_to_points(amount)
    if amount <= 0:
        ctx.reject("points", PointsError(_("That is too few points to take anything off.")))
        return []
    return [
        ctx.discount(
            source="points",
            code="points",
            label=_("%(points)s points") % {"points": used},
            amount=amount,
            meta={"points": used},
            commit=services.points_commit,
        )
    ]
