"""Receivers of other apps' signals: login (cart merge), privacy export and erasure."""

from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.dispatch import receiver

from accounts.signals import user_data_erase, user_data_export
from browsing.services import visitor_key
from orders.cart import CART_SESSION_KEY, cart_merge
from orders.checkout import ADDRESS_SNAPSHOT_FIELDS
from orders.models import Cart, CartItem, Order, Review, ReviewImage


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


@receiver(user_data_export, dispatch_uid="orders.export_member_data")
def export_member_data(sender, user, **kwargs) -> dict:
    """The member's orders (with lines and timeline), reviews and cart for their data export."""
    orders = (
        Order.objects.filter(user=user)
        .order_by("placed_at", "pk")
        .prefetch_related("items", "status_changes")
    )
    reviews = Review.objects.filter(user=user).order_by("created_at", "pk")
    cart_items = CartItem.objects.filter(cart__user=user).select_related("product")
    return {
        "orders": [
            {
                "number": o.number,
                "status": o.status,
                "placed_at": o.placed_at,
                "currency": o.currency,
                "subtotal": o.subtotal,
                "discount_total": o.discount_total,
                "shipping_fee": o.shipping_fee,
                "total": o.total,
                "refunded_total": o.refunded_total,
                "shipping_address": {f: getattr(o, f) for f in ADDRESS_SNAPSHOT_FIELDS},
                "note": o.note,
                "items": [
                    {
                        "sku": i.sku,
                        "name": i.product_name,
                        "unit_price": i.unit_price,
                        "quantity": i.quantity,
                        "discount": i.discount,
                        "refunded_quantity": i.refunded_quantity,
                    }
                    for i in o.items.all()
                ],
                "timeline": [
                    {"from": c.from_status, "to": c.to_status, "at": c.created_at, "note": c.note}
                    for c in o.status_changes.all()
                ],
            }
            for o in orders
        ],
        "reviews": [
            {
                "product_id": r.product_id,
                "rating": r.rating,
                "title": r.title,
                "body": r.body,
                "created_at": r.created_at,
                "updated_at": r.updated_at,
            }
            for r in reviews
        ],
        "cart": [
            {"sku": c.product.sku, "name": c.product.name, "quantity": c.quantity}
            for c in cart_items
        ],
    }


@receiver(user_data_erase, dispatch_uid="orders.erase_member_data")
def erase_member_data(sender, user, **kwargs) -> None:
    """Account deletion: the cart and reviews (with their photos) go; orders stay
    for the shop's accounts, with the personal parts of the address snapshot
    blanked (city and province are kept for sales reports)."""
    Cart.objects.filter(user=user).delete()
    for image in ReviewImage.objects.filter(review__user=user):
        name, storage = image.image.name, image.image.storage
        if name:
            transaction.on_commit(lambda n=name, s=storage: s.delete(n))
    Review.objects.filter(user=user).delete()
    Order.objects.filter(user=user).update(
        recipient_name="", phone="", line1="", line2="", district="", postal_code="", note=""
    )
