"""The tier's privileges that change prices: a pricing adjuster (``orders.pricing``).

Add ``"membership.pricing.tier_privileges"`` to ``settings.PRICING_ADJUSTERS``: the
member's tier discount (a percentage of what is still payable, rounded half-up to
the cent) and the tier's free-shipping threshold.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _

from membership.selectors import member_tier

HUNDRED = Decimal("100")


def tier_privileges(ctx):
    """Adjuster: the member discount and free-shipping offer of the member's tier."""
    tier = member_tier(ctx.user)
    if tier is None or not ctx.lines:
        return []
    discounts = []
    if tier.discount_percent > 0:
        payable = sum((ctx.payable(line.product_id) for line in ctx.lines), Decimal("0"))
        amount = (payable * tier.discount_percent / HUNDRED).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP
        )
        if amount > 0:
            discounts.append(
                ctx.discount(
                    source="tier",
                    code=tier.code,
                    label=_("%(tier)s member discount (%(percent)s%%)")
                    % {"tier": tier.display_name, "percent": tier.discount_percent.normalize()},
                    amount=amount,
                )
            )
    if tier.free_shipping_threshold is not None:
        ctx.offer_free_shipping(
            threshold=tier.free_shipping_threshold,
            source="tier",
            code=tier.code,
            label=_("%(tier)s members") % {"tier": tier.display_name},
        )
    return discounts
