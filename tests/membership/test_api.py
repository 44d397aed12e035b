"""GET me/membership/, GET me/profile/, POST me/profile/interests/: own data only."""

from datetime import timedelta

import pytest

from membership.models import MemberProfile
from membership.profiles import profile_refresh
from membership.tiers import tier_evaluate
from tests.factories import CategoryFactory, MemberFactory
from tests.membership.conftest import completed_order

pytestmark = pytest.mark.django_db
MEMBERSHIP = "/api/v1/me/membership/"
PROFILE = "/api/v1/me/profile/"
INTERESTS = "/api/v1/me/profile/interests/"


def test_membership_shows_tier_privileges_progress_and_history(member_api, member, now):
    completed_order(member, "1679.99", now - timedelta(days=2))  # silver; 3,320.01 to gold
    tier_evaluate(user_id=member.pk, now=now)

    body = member_api.get(MEMBERSHIP).json()

    assert body["tier"]["code"] == "silver" and body["tier"]["min_spend"] == "1000.00"
    assert body["qualifying_spend"] == "1679.99"
    assert "2% member discount" in body["privileges"]
    assert body["progress"]["next_tier"] == "gold"
    assert body["progress"]["spend_missing"] == "3320.01"
    assert "3,320.01 more before" in body["progress"]["message"]
    assert [h["to_tier"] for h in body["history"]] == ["silver", "bronze"]


def test_membership_of_a_member_without_row_shows_the_entry_tier(member_api):
    body = member_api.get(MEMBERSHIP).json()

    assert body["tier"]["code"] == "bronze" and body["history"] == []
    assert body["progress"]["next_tier"] == "silver"


def test_endpoints_need_authentication(api_client):
    for url in (MEMBERSHIP, PROFILE):
        response = api_client.get(url)
        assert response.status_code == 401 and response.json()["code"] == "not_authenticated"


def test_profile_is_the_callers_own(member_api, member, now):
    other = MemberFactory()
    completed_order(other, "99.00", now - timedelta(days=1))
    profile_refresh(user_id=other.pk)

    body = member_api.get(PROFILE).json()

    assert body["orders"] is None and body["computed_at"] is None
    profile_refresh(user_id=member.pk)
    assert member_api.get(PROFILE).json()["orders"] == 0


def test_hiding_an_interest_through_the_api(member_api, member):
    category = CategoryFactory()
    MemberProfile.objects.create(user=member)

    response = member_api.post(INTERESTS, {"kind": "category", "id": category.pk}, format="json")

    assert response.status_code == 200
    assert response.json()["hidden_categories"] == [category.pk]


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"kind": "shoe", "id": 1},
        {"kind": "brand"},
        {"kind": "brand", "id": "x"},
        {"kind": "brand", "id": 0},
        {"kind": "brand", "id": 2**70},
        {"kind": "brand", "id": 1, "hidden": "maybe"},
    ],
)
def test_bad_interest_input_is_a_400(member_api, member, payload):
    response = member_api.post(INTERESTS, payload, format="json")

    assert response.status_code == 400 and response.json()["code"] == "validation_error"
    assert not MemberProfile.objects.filter(user=member).exclude(overrides={}).exists()


def test_membership_query_count_does_not_grow_with_history(
    member_api, member, now, django_assert_max_num_queries
):
    completed_order(member, "1000.00", now - timedelta(days=400))
    tier_evaluate(user_id=member.pk, now=now - timedelta(days=399))
    member_api.get(MEMBERSHIP)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        member_api.get(MEMBERSHIP)
    for i in range(6):
        completed_order(member, "3000.00", now - timedelta(days=i + 1))
        tier_evaluate(user_id=member.pk, now=now - timedelta(days=i))

    with django_assert_max_num_queries(len(one.captured_queries)):
        body = member_api.get(MEMBERSHIP).json()

    assert len(body["history"]) >= 3
    assert len(one.captured_queries) <= 5  # token, user, membership, tiers, history


def test_profile_query_count_is_fixed(member_api, member, django_assert_max_num_queries):
    profile_refresh(user_id=member.pk)

    with django_assert_max_num_queries(3):  # token, user, profile
        assert member_api.get(PROFILE).status_code == 200


def test_hiding_an_unknown_interest_is_a_404_and_stores_nothing(member_api, member):
    MemberProfile.objects.create(user=member)

    response = member_api.post(INTERESTS, {"kind": "brand", "id": 987654}, format="json")

    assert response.status_code == 404 and response.json()["code"] == "interest_not_found"
    assert MemberProfile.objects.get(user=member).overrides == {}
