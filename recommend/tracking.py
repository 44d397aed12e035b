"""Clicks on served lists (impressions are the ServedList rows themselves)."""

from __future__ import annotations

from recommend.models import ListClick, ServedList


def click_record(*, list_id: int, product_id: int, user=None) -> bool:
    """Log a click on ``product_id`` of served list ``list_id``; False if it was not in it.

    A list served to a member only takes clicks from that member (or an
    anonymous visitor's stale link, which is ignored), so nobody can write
    clicks into another member's lists.
    """
    row = ServedList.objects.filter(pk=list_id).values("items", "user_id").first()
    if row is None or product_id not in row["items"]:
        return False
    user_id = user.pk if user is not None and user.is_authenticated else None
    if row["user_id"] is not None and row["user_id"] != user_id:
        return False
    ListClick.objects.create(
        served_list_id=list_id, product_id=product_id, position=row["items"].index(product_id)
    )
    return True
