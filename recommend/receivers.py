"""Reactions to other apps' events; each only enqueues a task (coalesced per member)."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from browsing.signals import member_activity
from catalog.models import Product
from orders.signals import order_paid
from recommend import services


@receiver(member_activity, dispatch_uid="recommend.fold_in_on_activity")
def fold_in_on_activity(sender, user_id, event_type=None, product_id=None, **kwargs) -> None:
    """A new interaction with a product (or a batch) changes the member's list; a search
    alone does not."""
    if product_id is not None or event_type == "batch":
        services.fold_in_enqueue(user_id=user_id)


@receiver(order_paid, dispatch_uid="recommend.fold_in_on_order_paid")
def fold_in_on_order_paid(sender, user_id=None, **kwargs) -> None:
    services.fold_in_enqueue(user_id=user_id)


@receiver(post_save, sender=Product, dispatch_uid="recommend.new_product_neighbours")
def new_product_neighbours(sender, instance, created, raw=False, **kwargs) -> None:
    """A product added in the admin gets content-based similar items right away."""
    if created and not raw and instance.is_active:
        services.product_cold_start_enqueue(product_id=instance.pk)
