"""The member's loyalty data in their export, and what account deletion does to it."""

import pytest

from accounts.services import user_delete_account
from accounts.signals import user_data_export
from promotions import services
from promotions.models import Coupon, PointsEntry, PointsExchange
from tests.factories import (
    AddressFactory,
    CouponFactory,
    ExchangeItemFactory,
    MemberFactory,
    ProductFactory,
    points_grant,
)

pytestmark = pytest.mark.django_db


def _member_with_loyalty_data(suffix=""):
    member = MemberFactory()
    AddressFactory(user=member, is_default=True, line1="9 Secret Lane")
    points_grant(member, 1000, reason="Welcome")
    CouponFactory(owner=member, code=f"UNUSED{suffix}")
    CouponFactory(owner=member, code=f"USEDUP{suffix}", used_count=1)
    gift = ExchangeItemFactory(
        kind="gift", campaign=None, product=ProductFactory(), points_cost=100
    )
    services.points_exchange(user=member, item_id=gift.pk)
    return member


def test_export_has_the_points_ledger_coupons_and_exchanges_of_the_member_only():
    member = _member_with_loyalty_data()
    other = _member_with_loyalty_data("X")

    sections = {}
    for _receiver, result in user_data_export.send(sender=None, user=member):
        sections.update(result or {})

    assert [e["reason"] for e in sections["points"]][0] == "Welcome"
    assert len(sections["points"]) == 2  # welcome, exchange
    assert {c["code"] for c in sections["coupons"]} == {"UNUSED", "USEDUP"}
    assert len(sections["points_exchanges"]) == 1
    assert "UNUSEDX" not in {c["code"] for c in sections["coupons"]} and other.pk != member.pk


def test_deletion_blanks_gift_addresses_and_drops_unused_coupons_but_keeps_the_ledger():
    member = _member_with_loyalty_data()

    user_delete_account(user=member)

    assert PointsExchange.objects.get(user=member).ship_to == ""
    assert list(Coupon.objects.filter(owner=member).values_list("code", flat=True)) == ["USEDUP"]
    assert PointsEntry.objects.filter(user=member).count() == 2
