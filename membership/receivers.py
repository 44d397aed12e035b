"""Reactions to other apps' signals: each only enqueues a Celery task (on commit).

* orders: ``order_completed`` → re-evaluate the tier (upgrade at once) and refresh the
  profile; ``order_refunded`` / ``order_paid`` / ``order_cancelled`` → refresh the
  profile only (a refund never changes a tier by itself).
* browsing: ``events_recorded`` → refresh the profile, coalesced.
"""

from django.dispatch import receiver

from browsing.signals import events_recorded
from membership import tasks
from orders.signals import order_cancelled, order_completed, order_paid, order_refunded


@receiver(order_completed, dispatch_uid="membership.order_completed")
def on_order_completed(sender, order_id=None, user_id=None, **kwargs) -> None:
    if user_id:
        tasks.evaluate_member_tier.delay(user_id)
        tasks.profile_refresh_soon(user_id)


@receiver(order_refunded, dispatch_uid="membership.order_refunded")
@receiver(order_paid, dispatch_uid="membership.order_paid")
@receiver(order_cancelled, dispatch_uid="membership.order_cancelled")
def on_order_changed(sender, order_id=None, user_id=None, **kwargs) -> None:
    if user_id:
        tasks.profile_refresh_soon(user_id)


@receiver(events_recorded, dispatch_uid="membership.events_recorded")
def on_events_recorded(sender, user_id=None, **kwargs) -> None:
    if user_id:
        tasks.profile_refresh_soon(user_id)
