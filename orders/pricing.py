"""Pricing: the one entry point that turns cart lines into money, ``price_cart``.

Cart, checkout and the API never add up prices themselves; they call
``price_cart`` and show or store its ``PricedCart``. The result is built by a
small pipeline:

1. **Lines**: unit prices come from the product rows the caller has just read
   from the database (the cart stores no prices), ``line_total = unit_price ×
   quantity``; ``subtotal`` is their sum.
2. **Adjusters**, applied in order. An adjuster is a callable
   ``adjuster(ctx: PricingContext) -> Iterable[Discount]``; it sees the lines
   with what is still payable on each after the previous adjusters, plus the
   member and the caller's ``options`` (a coupon code, points to spend...). Each
   ``Discount`` names its source and is allocated to lines (``allocations``,
   product id → amount); ``ctx.allocate(amount)`` spreads an amount over the
   lines in proportion to what is still payable, and ``ctx.discount(...)``
   builds a ``Discount`` so that adjusters living in lower apps (promotions)
   need not import this module. A discount can never take a line below zero.
   The pipeline is ``DEFAULT_ADJUSTERS`` followed by the dotted paths in
   ``settings.PRICING_ADJUSTERS`` (promotions, coupons, points): they
   plug in there, without touching cart or checkout.
   An adjuster that cannot honour an option (a bad coupon code, more points
   than the balance) calls ``ctx.reject(option, error)`` instead of raising:
   previews (cart page, ``GET cart/``) show the reason in
   ``PricedCart.rejections`` and price without it, while checkout raises the
   first rejection's error (a 4xx domain error). A ``Discount`` may carry a
   ``commit`` callback: ``orders.checkout.order_place`` calls it inside the
   order's transaction, after the order and its items are written, with an
   ``OrderPlacement``; it books the side effects (coupon redemption, points
   spend, promotion budget) and may raise a domain error, which rolls the whole
   order back. Adjusters may also add hints (``ctx.hint``) and explanation rows
   (``ctx.explain``), shown with the cart.
3. **Shipping**: ``SHIPPING_FEE`` unless the discounted subtotal reaches
   ``FREE_SHIPPING_THRESHOLD`` (both settings, read as Decimal strings); below
   the threshold a ``free_shipping`` hint says how much more to spend. An
   adjuster may offer a lower threshold with ``ctx.offer_free_shipping(...)``
   (a free-shipping promotion, a tier privilege; threshold 0 means free
   whatever the amount): the lowest threshold the discounted subtotal reaches
   wins and is named in ``PricedCart.free_shipping`` (the shop's own rule is
   credited whenever it is reached); below all of them the hint names the nearest
   one. A scoped offer (``product_ids``) is judged on the discounted payable of
   its lines only; an offer's ``commit`` callback records, at checkout, that it
   waived the fee.
4. **Total** = subtotal − discounts + shipping, never below zero.

Money is Decimal built from strings and rounded once per step with
``money_round`` (ROUND_HALF_UP to 0.01), the pricing boundary.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from functools import cache
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from catalog.money import format_money

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


# --- rounding and allocation -------------------------------------------------------------


def money_round(amount: Decimal | int | str, rounding: str = ROUND_HALF_UP) -> Decimal:
    """``amount`` to cents with an explicit rounding mode (ROUND_HALF_UP unless told).

    Floats are refused: money is built from strings or Decimals.
    """
    if isinstance(amount, float):
        raise TypeError("money must not be a float")
    return Decimal(amount).quantize(CENT, rounding=rounding)


def allocate(amount: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """Split ``amount`` over ``weights`` (e.g. line totals) in proportion, to the cent.

    Each share is first rounded down, then the cents left over go to the
    largest weight (the first of equal ones); a share never exceeds its weight,
    so if the largest line is already full the rest spills over to the next
    largest. The shares always add up to ``amount`` exactly.

    Raises ``ValueError`` when ``amount`` is negative, has more than two decimal
    places, or exceeds the sum of the weights (or a weight is negative).
    """
    amount = Decimal(amount)
    if amount != money_round(amount):
        raise ValueError("amount must be a whole number of cents")
    if amount < 0:
        raise ValueError("amount must not be negative")
    if any(Decimal(w) < 0 for w in weights):
        raise ValueError("weights must not be negative")
    total = sum((Decimal(w) for w in weights), ZERO)
    if amount > total:
        raise ValueError("amount exceeds the sum of the weights")
    if amount == 0:
        return [ZERO for _w in weights]
    shares = [money_round(Decimal(w) * amount / total, ROUND_DOWN) for w in weights]
    remainder = amount - sum(shares, ZERO)
    largest_first = sorted(range(len(weights)), key=lambda i: (-Decimal(weights[i]), i))
    for index in largest_first:
        if remainder <= 0:
            break
        room = Decimal(weights[index]) - shares[index]
        extra = min(room, remainder)
        shares[index] += extra
        remainder -= extra
    return shares


# --- result objects ----------------------------------------------------------------------


@dataclass(frozen=True)
class PricingLine:
    """Input line: a product row freshly read from the database and a quantity."""

    product: Any  # catalog.models.Product
    quantity: int
    item_id: int | None = None  # the cart line, when there is one


@dataclass(frozen=True)
class Discount:
    """One reduction from one source, allocated to lines (product id → amount).

    ``source`` is who granted it ("promotion", "coupon", "points"...), ``code``
    the rule or coupon code, ``label`` what the member reads. ``meta`` is the
    source's own data (ids, points); ``commit``, when set, is called by checkout
    inside the order's transaction with an ``OrderPlacement``.
    """

    source: str
    code: str
    label: str
    amount: Decimal
    allocations: Mapping[int, Decimal] = field(default_factory=dict)
    meta: Mapping[str, Any] = field(default_factory=dict, compare=False)
    commit: Callable[[OrderPlacement], None] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class OrderPlacement:
    """What a discount's ``commit`` callback gets at checkout: the new order (its row is
    written, inside the open transaction), the member, the order item id of each
    product line, and the discount being committed."""

    order: Any  # orders.models.Order
    user: Any
    item_ids: Mapping[int, int]  # product id -> order item id
    discount: Discount


@dataclass(frozen=True)
class PricingRejection:
    """An option an adjuster could not honour (``option`` e.g. "coupon", "points"),
    with the domain error checkout raises for it."""

    option: str
    error: Exception

    @property
    def code(self) -> str:
        return getattr(self.error, "code", "invalid")

    @property
    def message(self) -> str:
        return str(getattr(self.error, "message", self.error))

    @property
    def detail(self) -> Any:
        return getattr(self.error, "detail", None)


@dataclass(frozen=True)
class PricedLine:
    product_id: int
    product_name: str
    sku: str
    unit_price: Decimal
    quantity: int
    line_total: Decimal
    discount: Decimal
    payable: Decimal
    item_id: int | None = None
    category_id: int | None = None
    brand_id: int | None = None


@dataclass(frozen=True)
class PricingHint:
    """Something the member may act on, e.g. ``free_shipping``: spend ``amount`` more."""

    code: str
    message: str
    amount: Decimal | None = None


@dataclass(frozen=True)
class FreeShippingOffer:
    """Free shipping from ``threshold`` (discounted subtotal) on, granted by ``source``/``code``.

    The shop's own rule (``FREE_SHIPPING_THRESHOLD``) is the offer with source ``"shop"``.
    """

    threshold: Decimal
    source: str
    code: str
    label: str
    # The products whose payable counts towards the threshold (None: the whole cart).
    product_ids: frozenset[int] | None = None
    meta: Mapping[str, Any] = field(default_factory=dict, compare=False)
    # Called by checkout, inside the order's transaction, when this offer made shipping
    # free: an ``OrderPlacement`` whose discount has source "shipping" and the waived fee.
    commit: Callable[[OrderPlacement], None] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class PricedCart:
    lines: list[PricedLine]
    subtotal: Decimal
    discounts: list[Discount]
    discount_total: Decimal
    shipping_fee: Decimal
    total: Decimal
    currency: str
    hints: list[PricingHint]
    # The offer that made shipping free (None when shipping is charged or the cart is empty).
    free_shipping: FreeShippingOffer | None = None
    # Options the adjusters could not honour (shown by previews, raised by checkout).
    rejections: list[PricingRejection] = field(default_factory=list)
    # Why each adjuster did what it did (rows of plain data, for the cart and the API).
    explanation: list[dict] = field(default_factory=list)
    # The options the cart was priced with (coupon code, points...).
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        return not self.lines

    @property
    def item_count(self) -> int:
        return sum(line.quantity for line in self.lines)

    def line_for(self, product_id: int) -> PricedLine | None:
        for line in self.lines:
            if line.product_id == product_id:
                return line
        return None


# --- the adjuster pipeline -------------------------------------------------------------


@dataclass
class PricingContext:
    """What an adjuster sees: the lines, what is still payable on each, who, and options."""

    lines: list[PricedLine]
    user: Any
    options: Mapping[str, Any]
    currency: str
    discounts: list[Discount] = field(default_factory=list)
    free_shipping_offers: list[FreeShippingOffer] = field(default_factory=list)
    rejections: list[PricingRejection] = field(default_factory=list)
    hints: list[PricingHint] = field(default_factory=list)
    explanation: list[dict] = field(default_factory=list)
    _taken: dict[int, Decimal] = field(default_factory=dict)

    # The pricing boundary's helpers, for adjusters that must not import this module.
    split = staticmethod(allocate)
    round = staticmethod(money_round)

    @property
    def subtotal(self) -> Decimal:
        return sum((line.line_total for line in self.lines), ZERO)

    @property
    def discount_total(self) -> Decimal:
        return sum((d.amount for d in self.discounts), ZERO)

    @property
    def discounted_subtotal(self) -> Decimal:
        return self.subtotal - self.discount_total

    def payable(self, product_id: int) -> Decimal:
        """What is still payable on one line after the discounts so far."""
        for line in self.lines:
            if line.product_id == product_id:
                return line.line_total - self._taken.get(product_id, ZERO)
        raise ValueError(f"no line for product {product_id}")

    def allocate(
        self, amount: Decimal, *, product_ids: Iterable[int] | None = None
    ) -> dict[int, Decimal]:
        """Spread ``amount`` over the lines (or some of them) in proportion to what is
        still payable on them; the amount is capped at that payable sum."""
        ids = [line.product_id for line in self.lines] if product_ids is None else list(product_ids)
        weights = [self.payable(i) for i in ids]
        amount = min(money_round(amount), sum(weights, ZERO))
        return dict(zip(ids, allocate(max(amount, ZERO), weights), strict=True))

    def discount(
        self,
        *,
        source: str,
        code: str,
        label: str,
        amount: Decimal | None = None,
        product_ids: Iterable[int] | None = None,
        allocations: Mapping[int, Decimal] | None = None,
        meta: Mapping[str, Any] | None = None,
        commit: Callable[[OrderPlacement], None] | None = None,
    ) -> Discount:
        """A ``Discount`` of ``amount`` (capped at what is payable), allocated over the lines,
        or of the exact ``allocations`` given (checked when applied)."""
        if allocations is None:
            allocations = self.allocate(amount, product_ids=product_ids)
        allocations = {pid: share for pid, share in allocations.items() if share}
        return Discount(
            source=source,
            code=code,
            label=label,
            amount=sum(allocations.values(), ZERO),
            allocations=allocations,
            meta=dict(meta or {}),
            commit=commit,
        )

    def reject(self, option: str, error: Exception) -> None:
        """Record that ``option`` cannot be honoured; checkout raises ``error``."""
        self.rejections.append(PricingRejection(option=option, error=error))

    def hint(self, *, code: str, message: str, amount: Decimal | None = None) -> None:
        """Something the member may act on ("spend 35.00 more to save 20.00")."""
        self.hints.append(PricingHint(code=code, message=message, amount=amount))

    def explain(self, **row: Any) -> None:
        """One row of the explanation shown with the cart (plain data)."""
        self.explanation.append(row)

    def offer_free_shipping(
        self,
        *,
        threshold: Decimal | str,
        source: str,
        code: str,
        label: str,
        product_ids: Iterable[int] | None = None,
        meta: Mapping[str, Any] | None = None,
        commit: Callable[[OrderPlacement], None] | None = None,
    ) -> FreeShippingOffer:
        """Offer free shipping once the discounted subtotal reaches ``threshold`` (>= 0);
        with ``product_ids``, once the discounted payable of those lines does (a scoped
        promotion; no such line in the cart: no offer).

        Offers only ever lower the bar: shipping is free when the discounted subtotal
        reaches the shop's threshold or any offered one.
        """
        amount = money_round(threshold)
        if amount < 0:
            raise ValueError(f"free shipping {code!r}: threshold must be >= 0")
        offer = FreeShippingOffer(
            threshold=amount,
            source=source,
            code=code,
            label=label,
            product_ids=None if product_ids is None else frozenset(product_ids),
            meta=dict(meta or {}),
            commit=commit,
        )
        self.free_shipping_offers.append(offer)
        return offer

    def apply(self, discount: Discount) -> None:
        """Record one discount after checking it adds up and leaves every line >= 0."""
        allocated = sum((Decimal(a) for a in discount.allocations.values()), ZERO)
        if money_round(discount.amount) != discount.amount or discount.amount < 0:
            raise ValueError(f"discount {discount.code!r}: amount must be cents >= 0")
        if allocated != discount.amount:
            raise ValueError(f"discount {discount.code!r}: allocations do not add up")
        for product_id, share in discount.allocations.items():
            if share < 0 or share > self.payable(product_id):
                raise ValueError(f"discount {discount.code!r}: line {product_id} over-allocated")
        for product_id, share in discount.allocations.items():
            self._taken[product_id] = self._taken.get(product_id, ZERO) + share
        self.discounts.append(discount)


Adjuster = Callable[[PricingContext], Iterable[Discount]]

# Built-in adjusters, applied before the configured ones. None: discounts come from the
# promotions app through settings.PRICING_ADJUSTERS.
DEFAULT_ADJUSTERS: tuple[Adjuster, ...] = ()


@cache
def _configured(paths: tuple[str, ...]) -> tuple[Adjuster, ...]:
    loaded = []
    for path in paths:
        adjuster = import_string(path)
        loaded.append(adjuster() if isinstance(adjuster, type) else adjuster)
    return tuple(loaded)


def adjusters() -> tuple[Adjuster, ...]:
    """The pipeline: the built-in adjusters, then ``settings.PRICING_ADJUSTERS`` in order."""
    return DEFAULT_ADJUSTERS + _configured(tuple(getattr(settings, "PRICING_ADJUSTERS", ())))


# --- shipping ----------------------------------------------------------------------------


def shipping_fee() -> Decimal:
    return money_round(str(settings.SHIPPING_FEE))


def free_shipping_threshold() -> Decimal:
    return money_round(str(settings.FREE_SHIPPING_THRESHOLD))


def shop_free_shipping_offer() -> FreeShippingOffer:
    return FreeShippingOffer(
        threshold=free_shipping_threshold(),
        source="shop",
        code="shop",
        label=_("Free shipping"),
    )


def _shipping(
    discounted_subtotal: Decimal,
    has_lines: bool,
    offers: Sequence[FreeShippingOffer] = (),
    payables: Mapping[int, Decimal] | None = None,
) -> tuple[Decimal, PricingHint | None, FreeShippingOffer | None]:
    """The fee, the hint to show, and the offer that made shipping free (if any).

    Each offer is judged on its base: the discounted subtotal, or for a scoped offer
    the discounted payable of its lines (an offer with none of its lines in the cart is
    left out). The shop's own rule is credited when it is reached; otherwise the lowest
    threshold reached wins. Below every threshold, the hint names the nearest one.
    """
    if not has_lines:
        return ZERO, None, None
    payables = payables or {}

    def base(offer: FreeShippingOffer) -> Decimal:
        if offer.product_ids is None:
            return discounted_subtotal
        return sum((v for pid, v in payables.items() if pid in offer.product_ids), ZERO)

    shop = shop_free_shipping_offer()
    relevant = [
        o for o in offers if o.product_ids is None or any(pid in o.product_ids for pid in payables)
    ]
    candidates = sorted([shop, *relevant], key=lambda o: o.threshold)
    reached = [o for o in candidates if base(o) >= o.threshold]
    if reached:
        return ZERO, None, shop if shop in reached else reached[0]
    nearest = min(candidates, key=lambda o: (o.threshold - base(o), o is not shop))
    missing = nearest.threshold - base(nearest)
    if nearest.source == "shop":
        message = _("Spend %(amount)s more for free shipping.") % {"amount": format_money(missing)}
    elif nearest.product_ids is not None:
        message = _("Spend %(amount)s more on eligible items for free shipping (%(offer)s).") % {
            "amount": format_money(missing),
            "offer": nearest.label,
        }
    else:
        message = _("Spend %(amount)s more for free shipping (%(offer)s).") % {
            "amount": format_money(missing),
            "offer": nearest.label,
        }
    hint = PricingHint(code="free_shipping", message=message, amount=missing)
    return shipping_fee(), hint, None


# --- entry point -------------------------------------------------------------------------


def price_cart(
    *,
    lines: Sequence[PricingLine],
    user=None,
    options: Mapping[str, Any] | None = None,
    pipeline: Sequence[Adjuster] | None = None,
) -> PricedCart:
    """Price ``lines`` for ``user``; see the module docstring for the rules.

    ``lines`` carry product rows the caller has just read (checkout passes the
    rows it holds locked). ``options`` is handed to the adjusters untouched.
    ``pipeline`` replaces the configured adjusters (tests, previews). Raises
    ``ValueError`` if an adjuster returns a discount that does not add up.
    """
    currency = settings.SHOP_CURRENCY
    base: list[PricedLine] = []
    for line in lines:
        unit_price = money_round(line.product.price)
        line_total = money_round(unit_price * line.quantity)
        base.append(
            PricedLine(
                product_id=line.product.pk,
                product_name=line.product.name,
                sku=line.product.sku,
                unit_price=unit_price,
                quantity=line.quantity,
                line_total=line_total,
                discount=ZERO,
                payable=line_total,
                item_id=line.item_id,
                category_id=getattr(line.product, "category_id", None),
                brand_id=getattr(line.product, "brand_id", None),
            )
        )
    ctx = PricingContext(lines=base, user=user, options=dict(options or {}), currency=currency)
    for adjuster in adjusters() if pipeline is None else pipeline:
        for discount in adjuster(ctx) or ():
            ctx.apply(discount)

    priced_lines = [
        replace(
            line,
            discount=ctx._taken.get(line.product_id, ZERO),
            payable=ctx.payable(line.product_id),
        )
        for line in base
    ]
    subtotal = ctx.subtotal
    discount_total = ctx.discount_total
    fee, hint, free_offer = _shipping(
        subtotal - discount_total,
        bool(base),
        ctx.free_shipping_offers,
        {line.product_id: line.payable for line in priced_lines},
    )
    total = max(subtotal - discount_total + fee, ZERO)
    return PricedCart(
        lines=priced_lines,
        subtotal=subtotal,
        discounts=list(ctx.discounts),
        discount_total=discount_total,
        shipping_fee=fee,
        total=total,
        currency=currency,
        hints=[*ctx.hints, *([hint] if hint else [])],
        free_shipping=free_offer,
        rejections=list(ctx.rejections),
        explanation=list(ctx.explanation),
        options=dict(ctx.options),
    )
