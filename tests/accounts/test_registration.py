"""Registration: services and the web pages (register, then the skippable preferences step)."""

import pytest
from django.core import mail
from django.urls import reverse

from accounts import services
from accounts.exceptions import EmailAlreadyRegistered, InvalidPassword
from accounts.models import Profile, User
from tests.accounts.conftest import STRONG_PASSWORD
from tests.factories import BrandFactory, CategoryFactory, MemberFactory

pytestmark = pytest.mark.django_db


def test_register_lowercases_email_and_creates_profile(run_on_commit):
    with run_on_commit():
        user = services.user_register(
            email="  New.Member@Example.COM ", password=STRONG_PASSWORD, display_name="Nina"
        )

    assert user.email == "new.member@example.com"
    assert user.check_password(STRONG_PASSWORD)
    assert Profile.objects.get(user=user).display_name == "Nina"
    assert user.email_verified_at is None


def test_register_sends_verification_email_after_commit(run_on_commit):
    with run_on_commit() as callbacks:
        services.user_register(email="new@example.com", password=STRONG_PASSWORD)
        assert mail.outbox == []  # nothing before the commit

    assert len(callbacks) == 1
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new@example.com"]
    assert "/accounts/verify-email/" in mail.outbox[0].body


def test_register_refuses_an_email_registered_in_another_case():
    MemberFactory(email="taken@example.com")

    with pytest.raises(EmailAlreadyRegistered):
        services.user_register(email="TAKEN@example.com", password=STRONG_PASSWORD)

    assert User.objects.filter(email__iexact="taken@example.com").count() == 1


@pytest.mark.parametrize(
    "password",
    ["short-1", "password123", "1234567890123", "newmember@example.com"],
    ids=["too-short", "common", "numeric", "like-the-email"],
)
def test_register_refuses_weak_passwords(password):
    with pytest.raises(InvalidPassword) as excinfo:
        services.user_register(email="newmember@example.com", password=password)

    assert excinfo.value.detail["password"]
    assert not User.objects.filter(email="newmember@example.com").exists()


def test_register_page_creates_member_logs_in_and_goes_to_preferences(client, run_on_commit):
    with run_on_commit():
        response = client.post(
            reverse("accounts:register"),
            {
                "email": "Web@Example.com",
                "display_name": "Wen",
                "password1": STRONG_PASSWORD,
                "password2": STRONG_PASSWORD,
            },
        )

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:register_preferences")
    user = User.objects.get(email="web@example.com")
    assert int(client.session["_auth_user_id"]) == user.pk
    assert len(mail.outbox) == 1


def test_register_page_shows_error_when_passwords_differ(client):
    response = client.post(
        reverse("accounts:register"),
        {
            "email": "web@example.com",
            "password1": STRONG_PASSWORD,
            "password2": STRONG_PASSWORD + "x",
        },
    )

    assert response.status_code == 200
    assert "password2" in response.context["form"].errors
    assert response.context["form"]["email"].value() == "web@example.com"  # input kept
    assert not User.objects.filter(email="web@example.com").exists()


def test_register_page_shows_error_for_duplicate_email(client):
    MemberFactory(email="taken@example.com")

    response = client.post(
        reverse("accounts:register"),
        {"email": "Taken@Example.com", "password1": STRONG_PASSWORD, "password2": STRONG_PASSWORD},
    )

    assert response.status_code == 200
    assert "email" in response.context["form"].errors


def test_register_page_shows_error_for_common_password(client):
    response = client.post(
        reverse("accounts:register"),
        {"email": "web@example.com", "password1": "password123", "password2": "password123"},
    )

    assert response.status_code == 200
    assert "password1" in response.context["form"].errors
    assert not User.objects.filter(email="web@example.com").exists()


def test_preferences_step_saves_choices(member_client, member):
    category, brand = CategoryFactory(), BrandFactory()

    response = member_client.post(
        reverse("accounts:register_preferences"),
        {
            "favourite_categories": [category.pk],
            "favourite_brands": [brand.pk],
            "marketing_opt_in": "on",
        },
    )

    assert response.status_code == 302
    profile = Profile.objects.get(user=member)
    assert list(profile.favourite_categories.all()) == [category]
    assert list(profile.favourite_brands.all()) == [brand]
    assert profile.marketing_opt_in is True
    assert profile.preferences_set_at is not None


def test_preferences_step_can_be_skipped(member_client, member):
    response = member_client.post(reverse("accounts:register_preferences"), {"skip": "1"})

    assert response.status_code == 302
    profile = Profile.objects.get(user=member)
    assert profile.preferences_set_at is not None
    assert profile.favourite_categories.count() == 0


def test_preferences_step_rejects_unknown_category(member_client, member):
    response = member_client.post(
        reverse("accounts:register_preferences"), {"favourite_categories": [999999]}
    )

    assert response.status_code == 200
    assert "favourite_categories" in response.context["form"].errors
    assert Profile.objects.get(user=member).preferences_set_at is None


def test_inactive_categories_are_not_kept_as_favourites(member):
    active, inactive = CategoryFactory(), CategoryFactory(is_active=False)

    profile = services.preferences_update(
        user=member, favourite_categories=[active.pk, inactive.pk]
    )

    assert list(profile.favourite_categories.all()) == [active]
