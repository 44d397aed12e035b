"""Receivers of other apps' signals (login: merge the visitor's cart)."""

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from browsing.services import visitor_key
from orders.cart import CART_SESSION_KEY, cart_merge


@receiver(user_logged_in, dispatch_uid="orders.merge_visitor_cart")
def merge_visitor_cart(sender, request, user, **kwargs) -> None:
    """Move what the visitor put in their cart before logging in into the member's cart.

    Runs in the login request (not a task): the member must see the merged
    cart on the next page. The visitor key survives Django's session-key change
    at login, so the visitor's cart is still found here.
    """
    if request is None or getattr(request, "session", None) is None:
        return
    key = visitor_key(request, create=False)
    if key:
        cart_merge(visitor=key, user=user)
    request.session.pop(CART_SESSION_KEY, None)
