"""Functions other apps read through settings hooks (they never import promotions).

``MEMBERSHIP_POINTS_EARNED_PROVIDER`` = ``points_earned_since``: a tier may ask
for points earned in its qualifying window.
"""

from datetime import datetime

from django.db.models import Sum

from promotions.models import PointsEntry


def points_earned_since(user_id: int, since: datetime) -> int:
    """Points the member earned on orders since ``since``, less what refunds reversed.

    Staff adjustments, exchanges, returns of spent points and expiry do not count:
    a tier rewards what was bought, not what was given or spent.
    """
    total = PointsEntry.objects.filter(
        user_id=user_id,
        kind__in=[PointsEntry.Kind.EARN, PointsEntry.Kind.REVERSE],
        created_at__gte=since,
    ).aggregate(total=Sum("amount"))["total"]
    return max(int(total or 0), 0)
