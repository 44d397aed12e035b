"""Member pages: my membership and "what we think you like"."""

from datetime import timedelta

import pytest

from membership.models import MemberProfile
from membership.profiles import profile_refresh
from membership.tiers import tier_evaluate
from tests.factories import BrandFactory, CategoryFactory, ProductFactory
from tests.membership.conftest import completed_order

pytestmark = pytest.mark.django_db


def test_pages_need_login(client):
    for url in ("/membership/", "/membership/profile/"):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_membership_page_shows_tier_progress_and_history(member_client, member, now):
    completed_order(member, "1679.99", now - timedelta(days=1))
    tier_evaluate(user_id=member.pk, now=now)

    html = member_client.get("/membership/").content.decode()

    assert "Silver" in html and "2% member discount" in html
    assert "Spend ¥3,320.01 more before" in html and "to reach Gold" in html
    assert "Tier history" in html and "Qualified by orders" in html
    assert 'href="/membership/"' in html  # account menu link


def test_membership_page_in_chinese(member_client, member, now):
    completed_order(member, "1679.99", now - timedelta(days=1))
    tier_evaluate(user_id=member.pk, now=now)

    html = member_client.get("/membership/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()

    assert "白银会员" in html


def test_profile_page_lists_interests_and_hides_one(member_client, member):
    from browsing.models import Event

    shoes = CategoryFactory(name="Shoes")
    product = ProductFactory(category=shoes, brand=BrandFactory(name="Acme"))
    Event.objects.create(user=member, event_type="favorite", product=product)
    profile_refresh(user_id=member.pk)

    html = member_client.get("/membership/profile/").content.decode()
    response = member_client.post(
        "/membership/profile/interests/",
        {"kind": "category", "object_id": shoes.pk, "hidden": "1"},
    )

    assert "Shoes" in html and "Acme" in html
    assert response.status_code == 302
    data = MemberProfile.objects.get(user=member).data
    assert data["categories"] == [] and data["hidden_categories"] == [shoes.pk]
    after = member_client.get("/membership/profile/").content.decode()
    assert "Category: Shoes" in after and "Show again" in after


@pytest.mark.parametrize(
    "payload",
    [{}, {"kind": "x", "object_id": 1}, {"kind": "brand", "object_id": "abc"},
     {"kind": "brand", "object_id": "-3"}, {"kind": "brand", "object_id": str(2**70)}],
)  # fmt: skip
def test_bad_interest_form_is_refused_without_change(member_client, member, payload):
    response = member_client.post("/membership/profile/interests/", payload, follow=True)

    assert response.status_code == 200
    assert "could not be changed" in response.content.decode()
    assert not MemberProfile.objects.filter(user=member).exclude(overrides={}).exists()


def test_profile_page_query_count_is_fixed(member_client, member, django_assert_max_num_queries):
    profile_refresh(user_id=member.pk)

    with django_assert_max_num_queries(6):
        assert member_client.get("/membership/profile/").status_code == 200


def test_membership_page_query_count_does_not_grow_with_history(
    member_client, member, now, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    completed_order(member, "1000.00", now - timedelta(days=400))
    tier_evaluate(user_id=member.pk, now=now - timedelta(days=399))
    with CaptureQueriesContext(connection) as one:
        member_client.get("/membership/")
    for i in range(6):
        completed_order(member, "3000.00", now - timedelta(days=i + 1))
        tier_evaluate(user_id=member.pk, now=now - timedelta(days=i))

    with django_assert_max_num_queries(len(one.captured_queries)):
        html = member_client.get("/membership/").content.decode()

    assert html.count("<time") >= 3


def test_profile_page_names_interests_in_the_members_language(member_client, member):
    from browsing.models import Event

    product = ProductFactory(category=CategoryFactory(name="Shoes", name_zh_hans="鞋履"))
    Event.objects.create(user=member, event_type="favorite", product=product)
    profile_refresh(user_id=member.pk)

    html = member_client.get("/membership/profile/", HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert "鞋履" in html.content.decode()


def test_hiding_an_unknown_interest_on_the_page_is_refused(member_client, member):
    response = member_client.post(
        "/membership/profile/interests/",
        {"kind": "category", "object_id": "987654", "hidden": "1"},
        follow=True,
    )

    assert response.status_code == 200
    assert "could not be changed" in response.content.decode()
    assert not MemberProfile.objects.filter(user=member).exclude(overrides={}).exists()
