"""Tier qualification at exact boundaries; upgrade at once, downgrade only at review."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import override_settings

from membership.models import Membership, Tier, TierChange
from membership.tiers import memberships_rebuild, tier_evaluate, tier_review, tiers_review_due
from orders.signals import order_completed, order_refunded
from tests.membership.conftest import completed_order

pytestmark = pytest.mark.django_db


def _tier(user):
    return Membership.objects.select_related("tier").get(user=user).tier.code


def test_default_tiers_exist_with_increasing_thresholds():
    tiers = list(Tier.objects.order_by("rank"))

    assert [t.code for t in tiers] == ["bronze", "silver", "gold", "platinum"]
    assert [t.min_spend for t in tiers] == sorted(t.min_spend for t in tiers)
    assert all(t.name_zh_hans for t in tiers)


@pytest.mark.parametrize(
    ("spend", "expected"),
    [("999.99", "bronze"), ("1000.00", "silver"), ("1000.01", "silver"),
     ("4999.99", "silver"), ("5000.00", "gold"), ("15000.00", "platinum")],
)  # fmt: skip
def test_spend_thresholds_at_exact_amounts(member, now, spend, expected):
    completed_order(member, spend, now - timedelta(days=1))

    tier_evaluate(user_id=member.pk, now=now)

    assert _tier(member) == expected


def test_order_count_qualifies_alone_under_the_any_rule(member, now):
    for i in range(5):
        completed_order(member, "10.00", now - timedelta(days=i + 1))

    tier_evaluate(user_id=member.pk, now=now)

    assert _tier(member) == "silver"


def test_all_rule_needs_both_spend_and_orders(member, now):
    Tier.objects.filter(code="silver").update(qualify_rule=Tier.Rule.ALL)
    completed_order(member, "2000.00", now - timedelta(days=1))

    tier_evaluate(user_id=member.pk, now=now)

    assert _tier(member) == "bronze"


def test_orders_older_than_the_window_do_not_count(member, now):
    completed_order(member, "1000.00", now - timedelta(days=366))

    tier_evaluate(user_id=member.pk, now=now)

    assert _tier(member) == "bronze"


def test_only_completed_orders_count(member, now):
    order = completed_order(member, "1000.00", now - timedelta(days=1))
    order.status = "delivered"
    order.save()

    tier_evaluate(user_id=member.pk, now=now)

    assert _tier(member) == "bronze"


def test_completed_order_signal_upgrades_at_once_with_a_recorded_reason(member, now):
    order = completed_order(member, "1200.00", now)

    order_completed.send(sender=None, order_id=order.pk, user_id=member.pk)

    assert _tier(member) == "silver"
    reasons = list(TierChange.objects.filter(user=member).values_list("reason", "to_tier__code"))
    assert ("joined", "bronze") in reasons and ("qualified", "silver") in reasons


def test_refund_alone_never_downgrades(member, now):
    order = completed_order(member, "1200.00", now)
    tier_evaluate(user_id=member.pk, now=now)
    order.refunded_total = Decimal("1200.00")
    order.save()

    order_refunded.send(
        sender=None, order_id=order.pk, user_id=member.pk, refund_id=None, amount=Decimal("1200")
    )
    tier_evaluate(user_id=member.pk, now=now)

    assert _tier(member) == "silver"


def test_downgrade_waits_for_the_review_date_and_grace(member, now):
    completed_order(member, "1200.00", now)
    tier_evaluate(user_id=member.pk, now=now)
    review_at = Membership.objects.get(user=member).review_at

    # Before the review (+ grace), nothing moves even though the spend has expired.
    assert tier_review(user_id=member.pk, now=review_at + timedelta(days=29)) is None
    assert _tier(member) == "silver"

    change = tier_review(user_id=member.pk, now=review_at + timedelta(days=30))

    assert change is not None and change.reason == TierChange.Reason.REVIEW
    assert (change.from_tier.code, change.to_tier.code) == ("silver", "bronze")


def test_review_keeps_a_member_who_still_qualifies_and_moves_the_date(member, now):
    completed_order(member, "1200.00", now)
    tier_evaluate(user_id=member.pk, now=now)
    later = Membership.objects.get(user=member).review_at + timedelta(days=31)
    completed_order(member, "1500.00", later - timedelta(days=10))

    assert tier_review(user_id=member.pk, now=later) is None

    membership = Membership.objects.get(user=member)
    assert membership.tier.code == "silver"
    assert membership.review_at > later


@override_settings(MEMBERSHIP_REVIEW_DAYS=90, MEMBERSHIP_REVIEW_GRACE_DAYS=0)
def test_review_batches_are_idempotent(now):
    from tests.factories import MemberFactory

    members = [MemberFactory() for _ in range(3)]
    for m in members:
        completed_order(m, "1000.00", now - timedelta(days=380))
        tier_evaluate(user_id=m.pk, now=now - timedelta(days=380))
    when = now

    first = tiers_review_due(now=when, batch_size=2)
    second = tiers_review_due(now=when, batch_size=2)
    third = tiers_review_due(now=when, batch_size=2)

    assert first == (2, 1) and second == (1, 0) and third == (0, 0)
    assert TierChange.objects.filter(reason="review").count() == 3
    assert {_tier(m) for m in members} == {"bronze"}


def test_rebuild_after_import_gives_memberships_from_history(now):
    from tests.factories import MemberFactory

    rich, poor = MemberFactory(), MemberFactory()
    completed_order(rich, "6000.00", now - timedelta(days=20))
    completed_order(poor, "10.00", now - timedelta(days=20))

    first = memberships_rebuild(now=now)
    second = memberships_rebuild(now=now)

    assert first == {"created": 2, "upgraded": 0} and second == {"created": 0, "upgraded": 0}
    assert _tier(rich) == "gold" and _tier(poor) == "bronze"
    assert TierChange.objects.filter(user=rich, reason="rebuild").count() == 1


def points_provider(user_id, since):
    return 500


@override_settings(MEMBERSHIP_POINTS_EARNED_PROVIDER="tests.membership.test_tiers.points_provider")
def test_points_criterion_is_read_through_the_provider(member, now):
    Tier.objects.filter(code="silver").update(min_points=1000)
    completed_order(member, "1200.00", now)

    tier_evaluate(user_id=member.pk, now=now)

    assert _tier(member) == "bronze"  # 500 points < 1000


def test_rebuild_writes_no_history_for_a_membership_a_concurrent_evaluation_created(
    member, now, monkeypatch
):
    """The membership another process creates mid-rebuild keeps its own (single) history."""
    import membership.tiers as tiers_module

    completed_order(member, "1200.00", now - timedelta(days=3))
    real_tier_for = tiers_module.tier_for
    raced = []

    def tier_for_racing(*args, **kwargs):
        if not raced:
            raced.append(True)
            tier_evaluate(user_id=member.pk, now=now - timedelta(seconds=1))
        return real_tier_for(*args, **kwargs)

    monkeypatch.setattr(tiers_module, "tier_for", tier_for_racing)
    memberships_rebuild(now=now, user_ids=[member.pk])

    reasons = list(
        TierChange.objects.filter(user=member).order_by("pk").values_list("reason", flat=True)
    )
    assert reasons == [TierChange.Reason.JOINED, TierChange.Reason.QUALIFIED]
    assert _tier(member) == "silver"


def test_rebuild_refreshes_rolling_figures_that_left_the_window_but_keeps_the_tier(member, now):
    completed_order(member, "1200.00", now - timedelta(days=300))
    tier_evaluate(user_id=member.pk, now=now - timedelta(days=300))
    assert Membership.objects.get(user=member).qualifying_spend == Decimal("1200.00")

    memberships_rebuild(now=now + timedelta(days=100))

    membership = Membership.objects.get(user=member)
    assert (membership.qualifying_spend, membership.qualifying_orders) == (Decimal("0.00"), 0)
    assert _tier(member) == "silver"
    assert not TierChange.objects.filter(user=member, reason="rebuild").exists()
