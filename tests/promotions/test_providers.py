"""Functions that other apps read through settings hooks (membership's tier criterion)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from promotions.models import PointsEntry
from promotions.providers import points_earned_since
from promotions.services import points_earn_for_order
from tests.factories import MemberFactory, ProductFactory, order_with_items, points_grant

pytestmark = pytest.mark.django_db


def _completed_order(member, price: str):
    return order_with_items(
        user=member, products=[ProductFactory(price=Decimal(price))], status="completed"
    )


def test_points_earned_on_orders_count_and_staff_grants_do_not():
    member = MemberFactory()
    points_earn_for_order(order_id=_completed_order(member, "120.00").pk)
    points_grant(member, 500)

    earned = points_earned_since(member.pk, timezone.now() - timedelta(days=1))

    assert earned == PointsEntry.objects.get(user=member, kind="earn").amount > 0


def test_points_earned_before_the_window_do_not_count():
    member = MemberFactory()
    points_earn_for_order(order_id=_completed_order(member, "80.00").pk)

    assert points_earned_since(member.pk, timezone.now() + timedelta(seconds=1)) == 0


def test_another_members_points_do_not_count():
    member, other = MemberFactory(), MemberFactory()
    points_earn_for_order(order_id=_completed_order(other, "80.00").pk)

    assert points_earned_since(member.pk, timezone.now() - timedelta(days=1)) == 0
