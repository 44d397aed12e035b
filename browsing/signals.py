"""Signals of the behaviour log, sent after the transaction commits.

``member_activity`` (``user_id``, ``event_type``, ``product_id`` or None): a
member's behaviour event was logged (a view, search, favourite, cart change,
rating; ``event_type="batch"`` for a batch from the API). Receivers only
enqueue a task, coalesced per member: membership refreshes the member's
profile, recommend folds the new interactions into the member's list.
"""

from django.db import transaction
from django.dispatch import Signal

member_activity = Signal()


def member_activity_send(*, user_id: int | None, event_type: str, product_id: int | None) -> None:
    """Send ``member_activity`` once the current transaction commits (visitors: nothing)."""
    if not user_id:
        return
    transaction.on_commit(
        lambda: member_activity.send(
            sender=None, user_id=user_id, event_type=event_type, product_id=product_id
        )
    )
