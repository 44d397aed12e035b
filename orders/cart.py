"""The cart (购物车): services that change it and selectors that read it.

A cart belongs to a member, or to an anonymous visitor identified by the
visitor key kept in their session (``browsing.services.visitor_key``); a
``CartOwner`` names one or the other. At login the visitor's cart is merged
into the member's (``cart_merge``, called by ``orders.receivers``).

Quantities are whole numbers from 1 to the lower of the product's stock and
``settings.CART_MAX_QUANTITY``. The cart stores no prices: every read prices
the lines through ``orders.pricing.price_cart`` from the product rows.
Lines whose product became inactive or ran out of stock stay in the cart,
flagged (``CartLineView.problem``), and block checkout until the member fixes
them. Adds and removes are written to the behaviour log.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q, Sum
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from browsing.models import Event
from browsing.services import event_record, visitor_key
from catalog.models import Product
from config.api.errors import DomainError, NotFound
from orders.exceptions import OutOfStock, ProductUnavailable
from orders.models import Cart, CartItem
from orders.pricing import PricedCart, PricedLine, PricingLine, price_cart
from orders.restrictions import purchase_restrictions

# Set in the session of a visitor once they have a cart, so that the header's
# cart count costs no query for visitors who never added anything.
CART_SESSION_KEY = "cart_visitor"
# Largest id a lookup may carry (64-bit signed): bigger ones are simply not found.
MAX_ID = 2**63 - 1


class CartItemNotFound(NotFound):
    code = "cart_item_not_found"
    message = gettext_lazy("This item is not in your cart.")


class InvalidQuantity(DomainError):
    code = "invalid_quantity"
    message = gettext_lazy("Enter a valid quantity.")


class Problem:
    """Why a cart line cannot be checked out as it is."""

    INACTIVE = "inactive"
    OUT_OF_STOCK = "out_of_stock"
    INSUFFICIENT_STOCK = "insufficient_stock"


@dataclass(frozen=True)
class CartOwner:
    """A member (``user``) or an anonymous visitor (``visitor`` key); empty when neither."""

    user: Any = None
    visitor: str = ""

    @classmethod
    def from_request(cls, request: HttpRequest, *, create: bool = False) -> CartOwner:
        """The owner behind a request; ``create`` gives a new visitor a visitor key."""
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return cls(user=user)
        return cls(visitor=visitor_key(request, create=create))

    @property
    def is_member(self) -> bool:
        return self.user is not None and getattr(self.user, "is_authenticated", False)

    @property
    def is_empty(self) -> bool:
        return not self.is_member and not self.visitor

    def cart_lookup(self, prefix: str = "") -> dict[str, Any]:
        if self.is_member:
            return {f"{prefix}user": self.user}
        return {f"{prefix}visitor_key": self.visitor, f"{prefix}user__isnull": True}


def max_quantity(product: Product) -> int:
    """Most of ``product`` one cart line may hold now (0 when it cannot be bought)."""
    if not product.is_active:
        return 0
    return max(0, min(product.stock, settings.CART_MAX_QUANTITY))


def _as_id(value: Any) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number <= MAX_ID else None


def _check_quantity(quantity: Any) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise InvalidQuantity(
            _("Enter a quantity from 1 to %(max)s.") % {"max": settings.CART_MAX_QUANTITY},
            detail={"quantity": quantity if isinstance(quantity, int) else str(quantity)[:20]},
        )
    if quantity < 1 or quantity > settings.CART_MAX_QUANTITY:
        raise InvalidQuantity(
            _("Enter a quantity from 1 to %(max)s.") % {"max": settings.CART_MAX_QUANTITY},
            detail={"quantity": quantity, "max": settings.CART_MAX_QUANTITY},
        )
    return quantity


def _check_fits(product: Product, quantity: int, *, in_cart: int = 0) -> None:
    """Refuse a line of ``quantity`` (of which ``in_cart`` already in the cart) that the
    stock or the per-product limit cannot hold."""
    if not product.is_active:
        raise ProductUnavailable(detail={"product": product.pk})
    if quantity > settings.CART_MAX_QUANTITY:
        raise InvalidQuantity(
            _("You can have at most %(max)s of one product in your cart.")
            % {"max": settings.CART_MAX_QUANTITY},
            detail={"quantity": quantity, "max": settings.CART_MAX_QUANTITY, "in_cart": in_cart},
        )
    if quantity > product.stock:
        if product.stock <= 0:
            message = _("“%(name)s” is out of stock.") % {"name": product.display_name}
        elif in_cart:
            message = _(
                "Only %(available)s of “%(name)s” left in stock, and %(in_cart)s already "
                "in your cart."
            ) % {"available": product.stock, "name": product.display_name, "in_cart": in_cart}
        else:
            message = _("Only %(available)s of “%(name)s” left in stock.") % {
                "available": product.stock,
                "name": product.display_name,
            }
        raise OutOfStock(
            message,
            detail={
                "items": [
                    {
                        "product": product.pk,
                        "sku": product.sku,
                        "requested": quantity,
                        "available": product.stock,
                    }
                ]
            },
        )


def _product(product_id: Any) -> Product:
    pk = _as_id(product_id)
    product = Product.objects.filter(pk=pk).first() if pk else None
    if product is None:
        raise ProductUnavailable(_("This product does not exist."), detail={"product": product_id})
    return product


def _record(owner: CartOwner, event_type: str, product_id: int, quantity: int, source: str):
    event_record(
        user=owner.user if owner.is_member else None,
        visitor="" if owner.is_member else owner.visitor,
        event_type=event_type,
        product_id=product_id,
        quantity=quantity,
        source=source,
    )


# --- services ----------------------------------------------------------------------------


def cart_get_or_create(*, owner: CartOwner) -> Cart:
    """The owner's cart, created when missing (one per member, one per visitor key)."""
    if owner.is_empty:
        raise ValueError("a cart needs a member or a visitor key")
    if owner.is_member:
        cart, _created = Cart.objects.get_or_create(user=owner.user)
    else:
        cart, _created = Cart.objects.get_or_create(visitor_key=owner.visitor, user=None)
    return cart


def _locked_cart(owner: CartOwner, *, create: bool) -> Cart | None:
    if create:
        cart = cart_get_or_create(owner=owner)
        return Cart.objects.select_for_update().get(pk=cart.pk)
    if owner.is_empty:
        return None
    return Cart.objects.select_for_update().filter(**owner.cart_lookup()).first()


def _owned_item(cart: Cart | None, item_id: Any) -> CartItem:
    pk = _as_id(item_id)
    item = (
        CartItem.objects.select_related("product").filter(cart=cart, pk=pk).first()
        if cart is not None and pk
        else None
    )
    if item is None:
        raise CartItemNotFound(detail={"item": item_id})
    return item


def cart_add_item(
    *, owner: CartOwner, product_id: Any, quantity: Any, source: str = Event.Source.WEB
) -> CartItem:
    """Add ``quantity`` of a product to the owner's cart (to its line if there is one).

    Raises ``InvalidQuantity`` (not a whole number from 1 to CART_MAX_QUANTITY, or
    the line would exceed it), ``ProductUnavailable`` (unknown or inactive
    product) or ``OutOfStock`` (the line would exceed the stock). Logs a
    ``cart_add`` event with the added quantity.
    """
    quantity = _check_quantity(quantity)
    product = _product(product_id)
    restricted = purchase_restrictions(owner.user if owner.is_member else None, [product.pk])
    if restricted:
        raise ProductUnavailable(restricted[product.pk], detail={"product": product.pk})
    with transaction.atomic():
        cart = _locked_cart(owner, create=True)
        item = CartItem.objects.filter(cart=cart, product=product).first()
        in_cart = item.quantity if item else 0
        _check_fits(product, in_cart + quantity, in_cart=in_cart)
        if item is None:
            item = CartItem.objects.create(cart=cart, product=product, quantity=quantity)
        else:
            item.quantity = in_cart + quantity
            item.save(update_fields=["quantity"])
        cart.save(update_fields=["updated_at"])
        _record(owner, Event.Type.CART_ADD, product.pk, quantity, source)
    item.product = product
    return item


def cart_update_item(
    *, owner: CartOwner, item_id: Any, quantity: Any, source: str = Event.Source.WEB
) -> CartItem:
    """Set the quantity of one line of the owner's cart.

    Another owner's line or an unknown id raises ``CartItemNotFound``; the
    quantity rules are those of ``cart_add_item`` (lowering the quantity of a
    line whose stock shrank is how the member fixes it). The change is logged
    as ``cart_add`` or ``cart_remove`` of the difference.
    """
    quantity = _check_quantity(quantity)
    with transaction.atomic():
        cart = _locked_cart(owner, create=False)
        item = _owned_item(cart, item_id)
        previous = item.quantity
        if quantity > previous:
            _check_fits(item.product, quantity)
        elif not item.product.is_active:
            raise ProductUnavailable(detail={"product": item.product_id})
        if quantity != previous:
            item.quantity = quantity
            item.save(update_fields=["quantity"])
            cart.save(update_fields=["updated_at"])
            event = Event.Type.CART_ADD if quantity > previous else Event.Type.CART_REMOVE
            _record(owner, event, item.product_id, abs(quantity - previous), source)
    return item


def cart_remove_item(*, owner: CartOwner, item_id: Any, source: str = Event.Source.WEB) -> None:
    """Remove one line from the owner's cart (``CartItemNotFound`` if it is not theirs).

    Logs a ``cart_remove`` event with the line's quantity.
    """
    with transaction.atomic():
        cart = _locked_cart(owner, create=False)
        item = _owned_item(cart, item_id)
        item.delete()
        cart.save(update_fields=["updated_at"])
        _record(owner, Event.Type.CART_REMOVE, item.product_id, item.quantity, source)


def cart_merge(*, visitor: str, user) -> Cart | None:
    """Move a visitor's cart into the member's cart, at login; returns the member's cart.

    Quantities of the same product are added, capped at the stock and at
    CART_MAX_QUANTITY; a line whose product is inactive or out of stock is
    kept (flagged in the cart) rather than dropped. The visitor's cart is
    deleted. Nothing happens (None) when the visitor has no cart.
    """
    if not visitor or user is None:
        return None
    with transaction.atomic():
        if not Cart.objects.filter(visitor_key=visitor, user__isnull=True).exists():
            return None
        member_cart = cart_get_or_create(owner=CartOwner(user=user))
        # Both carts locked in pk order, the one lock order of every cart writer.
        carts = list(
            Cart.objects.select_for_update()
            .filter(Q(pk=member_cart.pk) | Q(visitor_key=visitor, user__isnull=True))
            .order_by("pk")
        )
        visitor_cart = next((c for c in carts if c.pk != member_cart.pk), None)
        if visitor_cart is None:
            return member_cart
        incoming = list(CartItem.objects.filter(cart=visitor_cart).select_related("product"))
        existing = {i.product_id: i for i in CartItem.objects.filter(cart=member_cart)}
        for line in incoming:
            own = existing.get(line.product_id)
            wanted = line.quantity + (own.quantity if own else 0)
            capped = max(1, min(wanted, settings.CART_MAX_QUANTITY, line.product.stock))
            if own is None:
                CartItem.objects.create(cart=member_cart, product=line.product, quantity=capped)
            elif own.quantity != capped:
                own.quantity = capped
                own.save(update_fields=["quantity"])
        visitor_cart.delete()
        member_cart.save(update_fields=["updated_at"])
    return member_cart


# --- selectors -----------------------------------------------------------------------------


_PROBLEM_MESSAGES = {
    Problem.INACTIVE: gettext_lazy("No longer available: please remove it."),
    Problem.OUT_OF_STOCK: gettext_lazy("Out of stock: please remove it."),
    Problem.INSUFFICIENT_STOCK: gettext_lazy(
        "Only %(available)s left in stock: please lower the quantity."
    ),
}


@dataclass(frozen=True)
class CartLineView:
    """One cart line as the cart page and API show it."""

    item_id: int
    product: Product
    quantity: int
    problem: str  # "" or a Problem value
    max_quantity: int
    priced: PricedLine | None  # None for lines left out of the totals (problem lines)

    @property
    def is_available(self) -> bool:
        return not self.problem

    @property
    def problem_message(self) -> str:
        if not self.problem:
            return ""
        return str(_PROBLEM_MESSAGES[self.problem]) % {"available": self.product.stock}


@dataclass(frozen=True)
class CartView:
    """The cart with its lines, their problems and the priced summary."""

    lines: list[CartLineView]
    priced: PricedCart

    @property
    def is_empty(self) -> bool:
        return not self.lines

    @property
    def item_count(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def problem_lines(self) -> list[CartLineView]:
        return [line for line in self.lines if line.problem]

    @property
    def can_checkout(self) -> bool:
        return bool(self.lines) and not self.problem_lines


def line_problem(product: Product, quantity: int) -> str:
    if not product.is_active:
        return Problem.INACTIVE
    if product.stock <= 0:
        return Problem.OUT_OF_STOCK
    if quantity > product.stock:
        return Problem.INSUFFICIENT_STOCK
    return ""


def cart_items(*, owner: CartOwner) -> list[CartItem]:
    """The owner's cart lines with their products, oldest first (one query)."""
    if owner.is_empty:
        return []
    return list(
        CartItem.objects.filter(**owner.cart_lookup("cart__"))
        .select_related("product", "product__category")
        .order_by("added_at", "id")
    )


def cart_view(*, owner: CartOwner, options: dict | None = None) -> CartView:
    """The owner's cart, flagged and priced, in one query.

    Lines whose product is inactive or out of stock are left out of the
    totals; a line asking for more than the stock is priced as it is and
    flagged, so the member sees what lowering it would cost.
    """
    items = cart_items(owner=owner)
    problems = {item.pk: line_problem(item.product, item.quantity) for item in items}
    priced = price_cart(
        lines=[
            PricingLine(product=item.product, quantity=item.quantity, item_id=item.pk)
            for item in items
            if problems[item.pk] in ("", Problem.INSUFFICIENT_STOCK)
        ],
        user=owner.user if owner.is_member else None,
        options=options,
    )
    by_item = {line.item_id: line for line in priced.lines}
    lines = [
        CartLineView(
            item_id=item.pk,
            product=item.product,
            quantity=item.quantity,
            problem=problems[item.pk],
            max_quantity=max_quantity(item.product),
            priced=by_item.get(item.pk),
        )
        for item in items
    ]
    return CartView(lines=lines, priced=priced)


def cart_count(*, owner: CartOwner) -> int:
    """How many pieces are in the owner's cart (one query; none without an owner)."""
    if owner.is_empty:
        return 0
    total = CartItem.objects.filter(**owner.cart_lookup("cart__")).aggregate(n=Sum("quantity"))["n"]
    return total or 0
