"""Placing an order from the member's cart: ``order_place``.

One transaction: lock the member's cart, lock the cart's product rows in pk
order, re-price the lines from those rows (``orders.pricing.price_cart``),
check every line against the stock, take the stock with guarded updates,
write the order with snapshots (address, product name, SKU, unit price, line
total, discount), its first status change ("" → pending_payment) and payment
deadline, empty the cart, and send ``orders.signals.order_placed`` after the
commit.

Idempotency: a checkout with an ``idempotency_key`` that the member already
used returns that order (``order.replayed`` is True) and changes nothing,
even when two requests race: the cart lock serialises them and the unique
(user, idempotency_key) constraint is the last line. A key reused with a
different cart still returns the first order: the key names the checkout
attempt, not its content.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import selectors as account_selectors
from accounts import services as account_services
from accounts.models import Address
from catalog.models import Product
from config.api.errors import DomainError
from orders.exceptions import CartEmpty, OutOfStock, ProductUnavailable
from orders.lifecycle import send_on_commit
from orders.models import Cart, CartItem, Order, OrderItem, OrderStatusChange
from orders.pricing import (
    Discount,
    OrderPlacement,
    PricedCart,
    PricingLine,
    price_cart,
    shipping_fee,
)
from orders.restrictions import purchase_restrictions
from orders.signals import order_placed

IDEMPOTENCY_KEY_MAX = 64
NUMBER_ATTEMPTS = 10
# The address fields an order keeps a copy of.
ADDRESS_SNAPSHOT_FIELDS = account_services.ADDRESS_FIELDS


class InvalidIdempotencyKey(DomainError):
    code = "invalid_idempotency_key"
    message = gettext_lazy("The Idempotency-Key must be 1 to 64 printable characters.")


class AddressRequired(DomainError):
    code = "address_required"
    message = gettext_lazy("Choose a shipping address.")


def idempotency_key_clean(value: Any) -> str | None:
    """The key as stored (stripped), None when absent; ``InvalidIdempotencyKey`` when
    longer than 64 characters or holding control characters."""
    if value is None:
        return None
    key = str(value).strip()
    if not key:
        return None
    if len(key) > IDEMPOTENCY_KEY_MAX or not key.isprintable():
        raise InvalidIdempotencyKey(detail={"max_length": IDEMPOTENCY_KEY_MAX})
    return key


def order_for_key(*, user, idempotency_key: str | None) -> Order | None:
    """The member's order placed with this key, if any."""
    if not idempotency_key:
        return None
    return Order.objects.filter(user=user, idempotency_key=idempotency_key).first()


def order_number_make() -> str:
    """A human-friendly order number: the date and 8 random digits, e.g. 2025061412345678."""
    return f"{timezone.localdate():%Y%m%d}{secrets.randbelow(10**8):08d}"


def _address_snapshot(*, user, address_id: Any, address: dict | None, save: bool) -> dict:
    """The address fields to copy onto the order.

    ``address_id`` picks one of the member's addresses (another member's id
    raises ``AddressNotFound``); ``address`` is a new one, validated like the
    address book's and, with ``save``, added to it.
    """
    if address_id not in (None, ""):
        chosen = account_selectors.address_get(user=user, address_id=address_id)
    elif address:
        if save:
            chosen = account_services.address_create(user=user, data=address)
        else:
            chosen = Address(
                user=user,
                **{f: address[f] for f in account_services.ADDRESS_FIELDS if f in address},
            )
            chosen.full_clean(exclude=["user", "is_default"])
    else:
        raise AddressRequired()
    return {f: getattr(chosen, f) for f in ADDRESS_SNAPSHOT_FIELDS}


def _replay(order: Order) -> Order:
    order.replayed = True
    return order


def _unavailable_detail(problems: list[tuple[Product, int]]) -> dict:
    return {
        "items": [
            {
                "product": p.pk,
                "sku": p.sku,
                "name": p.name,
                "requested": quantity,
                "available": p.stock if p.is_active else 0,
            }
            for p, quantity in problems
        ]
    }


def _lock_and_check(cart: Cart) -> tuple[list[tuple[Product, CartItem]], dict[int, Product]]:
    items = list(CartItem.objects.filter(cart=cart).order_by("added_at", "id"))
    if not items:
        raise CartEmpty()
    products = {
        p.pk: p
        for p in Product.objects.select_for_update()
        .filter(pk__in=[i.product_id for i in items])
        .order_by("pk")
    }
    lines = [(products[i.product_id], i) for i in items]
    inactive = [(p, i.quantity) for p, i in lines if not p.is_active]
    if inactive:
        raise ProductUnavailable(
            _("Some items in your cart are no longer available: %(names)s.")
            % {"names": ", ".join(p.display_name for p, _q in inactive)},
            detail=_unavailable_detail(inactive),
        )
    restricted = purchase_restrictions(cart.user, list(products))
    if restricted:
        raise ProductUnavailable(" ".join(sorted(set(restricted.values()))),
                                 detail={"restricted": sorted(restricted)})  # fmt: skip
    short = [(p, i.quantity) for p, i in lines if i.quantity > p.stock]
    if short:
        raise OutOfStock(
            _("Not enough stock for: %(names)s.")
            % {"names": ", ".join(p.display_name for p, _q in short)},
            detail=_unavailable_detail(short),
        )
    return lines, products


def _take_stock(lines: list[tuple[Product, CartItem]]) -> None:
    """Decrement the stock of every line in pk order; the guard refuses to go below zero."""
    for product, item in sorted(lines, key=lambda pair: pair[0].pk):
        taken = Product.objects.filter(pk=product.pk, stock__gte=item.quantity).update(
            stock=F("stock") - item.quantity
        )
        if not taken:  # cannot happen under the row lock; the guard is the last line
            raise OutOfStock(detail=_unavailable_detail([(product, item.quantity)]))


def _insert_order(order: Order) -> None:
    """Save a new order, drawing another number if the random one is taken."""
    for _attempt in range(NUMBER_ATTEMPTS):
        order.number = order_number_make()
        try:
            with transaction.atomic():
                order.save(force_insert=True)
            return
        except IntegrityError:
            if not Order.objects.filter(number=order.number).exists():
                raise  # not a number clash (the idempotency key): the caller decides
            order.pk = None
    raise RuntimeError("could not draw a free order number")


def _create_order(
    *,
    user,
    priced: PricedCart,
    snapshot: dict,
    note: str,
    key: str | None,
    source: str,
    products: dict[int, Product],
) -> Order:
    now = timezone.now()
    order = Order(
        user=user,
        status=Order.Status.PENDING_PAYMENT,
        source=source,
        currency=priced.currency,
        subtotal=priced.subtotal,
        discount_total=priced.discount_total,
        shipping_fee=priced.shipping_fee,
        total=priced.total,
        note=note,
        idempotency_key=key,
        placed_at=now,
        payment_due_at=now + timedelta(minutes=settings.ORDER_PAYMENT_TIMEOUT_MINUTES),
        **snapshot,
    )
    _insert_order(order)
    OrderItem.objects.bulk_create(
        [
            OrderItem(
                order=order,
                product=products[line.product_id],
                product_name=line.product_name,
                sku=line.sku,
                unit_price=line.unit_price,
                quantity=line.quantity,
                line_total=line.line_total,
                discount=line.discount,
            )
            for line in priced.lines
        ]
    )
    OrderStatusChange.objects.create(
        order=order,
        from_status="",
        to_status=Order.Status.PENDING_PAYMENT,
        changed_by=user,
        created_at=now,
    )
    return order


def _commit_discounts(*, order: Order, user, priced: PricedCart) -> None:
    """Book the side effects of the discounts (coupon redemption, points spend,
    promotion budget) through their ``commit`` callbacks, in pricing order, then the
    free-shipping offer's (the fee it waived), inside the order's transaction: a
    callback's domain error rolls the whole order back."""
    committing = [d for d in priced.discounts if d.commit is not None]
    offer = priced.free_shipping
    if offer is not None and offer.commit is not None:
        # The free-shipping offer that waived the fee books it too (source "shipping").
        waived = Discount(
            source="shipping",
            code=offer.code,
            label=offer.label,
            amount=shipping_fee(),
            meta=offer.meta,
            commit=offer.commit,
        )
        committing.append(waived)
    if not committing:
        return
    item_ids = dict(OrderItem.objects.filter(order=order).values_list("product_id", "id"))
    for discount in committing:
        discount.commit(
            OrderPlacement(order=order, user=user, item_ids=item_ids, discount=discount)
        )


def order_place(
    *,
    user,
    address_id: Any = None,
    address: dict | None = None,
    save_address: bool = False,
    note: str = "",
    idempotency_key: str | None = None,
    source: str = Order.Source.WEB,
    options: dict | None = None,
) -> Order:
    """Place an order for everything in the member's cart; see the module docstring.

    Ship to ``address_id`` (one of the member's addresses) or to ``address`` (a
    dict of address fields, added to the address book when ``save_address``).
    ``options`` goes to the pricing adjusters (e.g. ``{"coupon": "CODE", "points": 500}``);
    an option they reject raises its domain error (4xx, nothing written), and a
    discount whose ``commit`` refuses (coupon just used up, points gone) rolls
    the order back with its error.

    Returns the order with ``order.replayed`` False, or the earlier order
    with the same key with ``replayed`` True. Raises ``CartEmpty``,
    ``AddressRequired``, ``AddressNotFound``, ``ValidationError`` (new address
    fields), ``ProductUnavailable`` and ``OutOfStock`` (409, ``detail["items"]``
    lists sku, requested and available per line), ``InvalidIdempotencyKey``.
    """
    key = idempotency_key_clean(idempotency_key)
    note = (note or "").strip()[:255]
    existing = order_for_key(user=user, idempotency_key=key)
    if existing is not None:
        return _replay(existing)
    try:
        with transaction.atomic():
            cart = Cart.objects.select_for_update().filter(user=user).first()
            # A racing request with the same key waited on the cart lock: look again.
            existing = order_for_key(user=user, idempotency_key=key)
            if existing is not None:
                return _replay(existing)
            if cart is None:
                raise CartEmpty()
            lines, products = _lock_and_check(cart)
            snapshot = _address_snapshot(
                user=user, address_id=address_id, address=address, save=save_address
            )
            priced = price_cart(
                lines=[PricingLine(product=p, quantity=i.quantity, item_id=i.pk) for p, i in lines],
                user=user,
                options=options,
            )
            if priced.rejections:  # a bad coupon code, points beyond the balance...
                raise priced.rejections[0].error
            _take_stock(lines)
            order = _create_order(
                user=user,
                priced=priced,
                snapshot=snapshot,
                note=note,
                key=key,
                source=source,
                products=products,
            )
            _commit_discounts(order=order, user=user, priced=priced)
            CartItem.objects.filter(cart=cart).delete()
            cart.save(update_fields=["updated_at"])
            send_on_commit(order_placed, order)
    except IntegrityError:
        existing = order_for_key(user=user, idempotency_key=key)
        if existing is None:
            raise
        return _replay(existing)
    order.replayed = False
    return order
