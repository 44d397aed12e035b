"""Template context of orders: the header's cart count and the per-line quantity limit."""

from django.conf import settings
from django.http import HttpRequest

from orders.cart import CART_SESSION_KEY, CartOwner, cart_count


def cart(request: HttpRequest) -> dict:
    """``cart_count`` (pieces in the cart, for the header badge) and ``CART_MAX_QUANTITY``.

    One query for a member; none for a visitor who never put anything in a
    cart (their session carries no cart marker).
    """
    context = {"CART_MAX_QUANTITY": settings.CART_MAX_QUANTITY, "cart_count": 0}
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        context["cart_count"] = cart_count(owner=CartOwner(user=user))
        return context
    session = getattr(request, "session", None)
    marked = session.get(CART_SESSION_KEY, "") if session is not None else ""
    if marked:
        context["cart_count"] = cart_count(owner=CartOwner(visitor=marked))
    return context
