"""The member's membership data in their export; computed data erased at deletion."""

from datetime import timedelta

import pytest

from accounts.services import user_delete_account, user_export_data
from membership.models import MemberProfile, MemberScore, Membership
from membership.profiles import profile_refresh
from membership.tiers import tier_evaluate
from tests.factories import MemberFactory
from tests.membership.conftest import completed_order

pytestmark = pytest.mark.django_db


def test_export_holds_tier_history_and_profile_of_that_member_only(member, now):
    other = MemberFactory()
    completed_order(member, "1500.00", now - timedelta(days=1))
    tier_evaluate(user_id=member.pk, now=now)
    profile_refresh(user_id=member.pk)
    tier_evaluate(user_id=other.pk, now=now)

    data = user_export_data(user=member)["membership"]

    assert data["tier"] == "silver"
    assert [h["to"] for h in data["history"]] == ["bronze", "silver"]
    assert data["profile"]["orders"] == 1


def test_account_deletion_erases_the_computed_profile_and_score(member, now):
    profile_refresh(user_id=member.pk)
    MemberScore.objects.create(
        user=member, as_of=now.date(), horizon_days=30, p_return=0.5, expected_orders=1,
        expected_spend=1,
    )  # fmt: skip
    tier_evaluate(user_id=member.pk, now=now)

    user_delete_account(user=member)

    assert not MemberProfile.objects.filter(user=member).exists()
    assert not MemberScore.objects.filter(user=member).exists()
    assert Membership.objects.filter(user=member).exists()  # the tier record stays
