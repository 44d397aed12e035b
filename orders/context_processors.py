"""Template context of orders: the header's cart count and the per-line quantity limit."""

from django.conf import settings
from django.http import HttpRequest

from orders.cart import CART_SESSION_KEY, CartOwner, cart_count


class LazyCartCount:
    """The owner's cart count, counted the first time a template uses it, at most once.

    Django templates call a callable variable, so ``{{ cart_count }}`` and
    ``{% blocktranslate count counter=cart_count %}`` see the integer, while pages
    that never show the header (admin) cost no query.
    """

    def __init__(self, owner: CartOwner) -> None:
        self.owner = owner
        self.value: int | None = None

    def __call__(self) -> int:
        if self.value is None:
            self.value = cart_count(owner=self.owner)
        return self.value


def cart(request: HttpRequest) -> dict:
    """``cart_count`` (pieces in the cart, for the header badge) and ``CART_MAX_QUANTITY``.

    One query for a member, when a template shows it; none for a visitor who
    never put anything in a cart (their session carries no cart marker).
    """
    context = {"CART_MAX_QUANTITY": settings.CART_MAX_QUANTITY, "cart_count": 0}
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        context["cart_count"] = LazyCartCount(CartOwner(user=user))
        return context
    session = getattr(request, "session", None)
    marked = session.get(CART_SESSION_KEY, "") if session is not None else ""
    if marked:
        context["cart_count"] = LazyCartCount(CartOwner(visitor=marked))
    return context
