"""Signals of the behaviour log, sent after the transaction commits.

``member_activity`` (``user_id``, ``event_type``, ``product_id`` or None): a
member's event on a product was logged (view, favourite, cart, rating, a batch
from the app). Receivers (recommend's fold-in, profiles) only enqueue a task.
"""

from django.db import transaction
from django.dispatch import Signal

member_activity = Signal()


def member_activity_send(*, user_id: int | None, event_type: str, product_id: int | None) -> None:
    if not user_id:
        return
    transaction.on_commit(
        lambda: member_activity.send(
            sender=None, user_id=user_id, event_type=event_type, product_id=product_id
        )
    )
