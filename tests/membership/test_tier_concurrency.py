"""Concurrent evaluations and reviews of one member write one change (PostgreSQL, threads)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from membership.models import Membership, TierChange
from membership.tiers import tier_evaluate, tier_review
from tests.factories import MemberFactory
from tests.membership.conftest import completed_order
from tests.orders.threads import run_in_threads

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def default_tiers():
    """Transactional tests flush the tables, data migration rows included: put them back."""
    from importlib import import_module

    from django.apps import apps

    import_module("membership.migrations.0002_default_tiers").create(apps, None)


def test_concurrent_evaluations_create_one_membership_and_one_upgrade():
    member = MemberFactory()
    now = timezone.now()
    completed_order(member, "1500.00", now - timedelta(days=1))

    results, errors = run_in_threads([lambda: tier_evaluate(user_id=member.pk, now=now)] * 4)

    assert errors == []
    assert Membership.objects.get(user=member).tier.code == "silver"
    assert TierChange.objects.filter(user=member, reason="joined").count() == 1
    assert TierChange.objects.filter(user=member, reason="qualified").count() == 1


def test_concurrent_reviews_downgrade_once():
    member = MemberFactory()
    start = timezone.now() - timedelta(days=800)
    completed_order(member, "1500.00", start)
    tier_evaluate(user_id=member.pk, now=start)
    later = timezone.now()

    results, errors = run_in_threads([lambda: tier_review(user_id=member.pk, now=later)] * 4)

    assert errors == []
    assert TierChange.objects.filter(user=member, reason="review").count() == 1
    assert Membership.objects.get(user=member).tier.code == "bronze"
