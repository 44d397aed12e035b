"""Web login, logout and django-axes lockout."""

import pytest
from django.urls import reverse

from tests.accounts.conftest import PASSWORD
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


def _login(client, email, password):
    return client.post(reverse("accounts:login"), {"username": email, "password": password})


def test_login_page_labels_the_field_email(client):
    response = client.get(reverse("accounts:login"))

    assert response.status_code == 200
    assert response.context["form"].fields["username"].label == "Email"


def test_login_with_email_in_any_case(client, member):
    response = _login(client, "ALICE@example.com", PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:profile")
    assert int(client.session["_auth_user_id"]) == member.pk


def test_login_with_wrong_password_shows_form_error(client, member):
    response = _login(client, member.email, "wrong-password-1")

    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert "_auth_user_id" not in client.session


def test_inactive_member_cannot_log_in(client):
    MemberFactory(email="gone@example.com", is_active=False)

    response = _login(client, "gone@example.com", PASSWORD)

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_lockout_after_five_failures_refuses_even_the_right_password(client, member, settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    for _ in range(5):
        _login(client, member.email, "wrong-password-1")

    response = _login(client, member.email, PASSWORD)

    assert response.status_code == 429
    assert "accounts/lockout.html" in [t.name for t in response.templates]
    assert "_auth_user_id" not in client.session


def test_failures_below_the_limit_do_not_lock_out(client, member):
    for _ in range(4):
        _login(client, member.email, "wrong-password-1")

    response = _login(client, member.email, PASSWORD)

    assert response.status_code == 302


def test_logout_needs_post(member_client):
    assert member_client.get(reverse("accounts:logout")).status_code == 405

    response = member_client.post(reverse("accounts:logout"))

    assert response.status_code == 302
    assert "_auth_user_id" not in member_client.session


def test_password_change_needs_the_old_password(member_client, member):
    response = member_client.post(
        reverse("accounts:password_change"),
        {
            "old_password": "not-my-password",
            "new_password1": "Plum-orchard-lantern-42",
            "new_password2": "Plum-orchard-lantern-42",
        },
    )

    assert response.status_code == 200
    assert "old_password" in response.context["form"].errors
    member.refresh_from_db()
    assert member.check_password(PASSWORD)


def test_password_change_sets_new_password(member_client, member):
    response = member_client.post(
        reverse("accounts:password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "Plum-orchard-lantern-42",
            "new_password2": "Plum-orchard-lantern-42",
        },
    )

    assert response.status_code == 302
    member.refresh_from_db()
    assert member.check_password("Plum-orchard-lantern-42")
