"""Data export and account deletion (anonymisation), service and web pages."""

import io
import json
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image
from rest_framework.authtoken.models import Token

from accounts import services
from accounts.models import Address, Profile, User
from browsing.models import Event
from tests.accounts.conftest import PASSWORD
from tests.factories import AddressFactory, ProductFactory, TagFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def rich_member(member, other_member):
    """Alice with a tag, an address and two events; Bob with his own address and event."""
    product = ProductFactory()
    member.profile.tags.add(TagFactory(name="VIP"))
    AddressFactory(user=member, line1="1 Mine Street", is_default=True)
    Event.objects.create(user=member, event_type=Event.Type.VIEW, product=product)
    Event.objects.create(
        user=member, event_type=Event.Type.PURCHASE, product=product, value=Decimal("12.50")
    )
    AddressFactory(user=other_member, line1="9 Theirs Street", is_default=True)
    Event.objects.create(user=other_member, event_type=Event.Type.SEARCH, query="bob secret")
    return member


def test_export_is_json_serialisable_with_decimals_as_strings(rich_member):
    data = services.user_export_data(user=rich_member)

    json.dumps(data)  # no TypeError
    purchase = next(e for e in data["events"] if e["type"] == "purchase")
    assert purchase["value"] == "12.50"
    assert isinstance(purchase["occurred_at"], str)


def test_export_contains_own_data_only(rich_member):
    data = services.user_export_data(user=rich_member)

    assert data["account"]["email"] == "alice@example.com"
    assert [a["line1"] for a in data["addresses"]] == ["1 Mine Street"]
    assert len(data["events"]) == 2
    assert data["tags"] == ["VIP"]
    assert "bob secret" not in json.dumps(data)


def test_export_page_downloads_a_json_attachment(member_client, rich_member):
    response = member_client.get(reverse("accounts:data_export"))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"].startswith("attachment;")
    assert json.loads(response.content)["account"]["email"] == "alice@example.com"


def test_delete_account_anonymises_and_keeps_the_user_row(rich_member, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    Token.objects.create(user=rich_member)
    user_id = rich_member.pk

    services.user_delete_account(user=rich_member)

    user = User.objects.get(pk=user_id)
    assert user.email == f"deleted-{user_id}@invalid.example"
    assert user.external_id is None
    assert not user.has_usable_password()
    assert user.is_active is False
    assert user.anonymised_at is not None
    profile = Profile.objects.get(user=user)
    assert (profile.display_name, profile.phone, profile.birthday) == ("", "", None)
    assert profile.tags.count() == 0
    assert not Address.objects.filter(user=user).exists()
    assert not Token.objects.filter(user=user).exists()
    assert not Event.objects.filter(user=user).exists()


def test_delete_account_leaves_other_members_alone(rich_member, other_member):
    services.user_delete_account(user=rich_member)

    assert Address.objects.filter(user=other_member).count() == 1
    assert Event.objects.filter(user=other_member).count() == 1
    other_member.refresh_from_db()
    assert other_member.is_active is True


def test_delete_account_deletes_the_avatar_file(member, settings, tmp_path, run_on_commit):
    settings.MEDIA_ROOT = tmp_path
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, "PNG")
    services.profile_update(
        user=member, data={"avatar": SimpleUploadedFile("a.png", buffer.getvalue())}
    )
    avatar = Profile.objects.get(user=member).avatar
    name, storage = avatar.name, avatar.storage
    assert storage.exists(name)

    with run_on_commit():
        services.user_delete_account(user=member)

    assert not storage.exists(name)
    assert not Profile.objects.get(user=member).avatar


def test_delete_page_with_wrong_password_keeps_the_account(member_client, member):
    response = member_client.post(
        reverse("accounts:account_delete"), {"password": "wrong-one-123", "confirm": "on"}
    )

    assert response.status_code == 200
    assert "password" in response.context["form"].errors
    member.refresh_from_db()
    assert member.is_active is True


def test_delete_page_with_password_anonymises_and_logs_out(member_client, member):
    response = member_client.post(
        reverse("accounts:account_delete"), {"password": PASSWORD, "confirm": "on"}
    )

    assert response.status_code == 302
    assert "_auth_user_id" not in member_client.session
    member.refresh_from_db()
    assert member.anonymised_at is not None


def test_deleted_member_cannot_log_in_any_more(client, member):
    services.user_delete_account(user=member)

    response = client.post(
        reverse("accounts:login"), {"username": "alice@example.com", "password": PASSWORD}
    )

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
