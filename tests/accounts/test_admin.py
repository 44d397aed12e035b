"""Staff screens: creating email-only users, searching, filtering, tagging members."""

import pytest
from django.urls import reverse

from accounts.models import User
from tests.factories import MemberFactory, TagFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    admin_user = UserFactory(email="staff@example.com", is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    return client


def test_admin_creates_an_email_only_user(staff_client):
    response = staff_client.post(
        reverse("admin:accounts_user_add"),
        {
            "email": "New.Staff@Example.com",
            "usable_password": "true",
            "password1": "Plum-orchard-lantern-42",
            "password2": "Plum-orchard-lantern-42",
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    user = User.objects.get(email="new.staff@example.com")
    assert user.check_password("Plum-orchard-lantern-42")


def test_admin_add_refuses_duplicate_email_in_other_case(staff_client):
    MemberFactory(email="taken@example.com")

    response = staff_client.post(
        reverse("admin:accounts_user_add"),
        {
            "email": "TAKEN@example.com",
            "usable_password": "true",
            "password1": "Plum-orchard-lantern-42",
            "password2": "Plum-orchard-lantern-42",
        },
    )

    assert response.status_code == 200
    assert "email" in response.context["adminform"].form.errors


def test_admin_user_list_searches_by_external_id_and_filters_verified(staff_client):
    MemberFactory(email="imported@example.com", external_id="C-42")
    MemberFactory(email="other@example.com")

    found = staff_client.get(reverse("admin:accounts_user_changelist"), {"q": "C-42"})
    unverified = staff_client.get(reverse("admin:accounts_user_changelist"), {"verified": "no"})

    assert [u.email for u in found.context["cl"].result_list] == ["imported@example.com"]
    assert unverified.status_code == 200
    assert "imported@example.com" in unverified.content.decode()


def test_staff_assign_tags_on_the_user_page(staff_client):
    member = MemberFactory(email="tagme@example.com")
    tag = TagFactory(name="Wholesale")
    change_url = reverse("admin:accounts_user_change", args=[member.pk])
    page = staff_client.get(change_url)
    form = page.context["adminform"].form
    data = {
        key: value
        for key, value in form.initial.items()
        if key in form.fields and value is not None and key not in {"groups", "user_permissions"}
    }
    data.update(
        {
            "email": member.email,
            "is_active": "on",
            "date_joined_0": "2024-01-01",
            "date_joined_1": "00:00:00",
            "profile-TOTAL_FORMS": "1",
            "profile-INITIAL_FORMS": "1",
            "profile-MIN_NUM_FORMS": "0",
            "profile-MAX_NUM_FORMS": "1",
            "profile-0-id": member.profile.pk,
            "profile-0-user": member.pk,
            "profile-0-display_name": member.profile.display_name,
            "profile-0-gender": "unspecified",
            "profile-0-language": "en",
            "profile-0-tags": [tag.pk],
            "addresses-TOTAL_FORMS": "0",
            "addresses-INITIAL_FORMS": "0",
            "addresses-MIN_NUM_FORMS": "0",
            "addresses-MAX_NUM_FORMS": "1000",
        }
    )
    data.pop("password", None)

    response = staff_client.post(change_url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert list(member.profile.tags.all()) == [tag]


@pytest.mark.parametrize(
    "url_name",
    ["admin:accounts_tag_changelist", "admin:accounts_address_changelist"],
)
def test_tag_and_address_admin_pages_load(staff_client, url_name):
    assert staff_client.get(reverse(url_name)).status_code == 200
