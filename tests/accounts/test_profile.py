"""Profile page and profile edit: fields, avatar upload, language switch."""

import io
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from accounts.models import Profile
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _png(name="avatar.png", size=(32, 32)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, "teal").save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def _edit(client, **overrides):
    data = {
        "display_name": "Alice",
        "phone": "+86 138 0000 0000",
        "gender": "female",
        "birthday": "1990-05-01",
        "language": "en",
        **overrides,
    }
    return client.post(reverse("accounts:profile_edit"), data)


def test_profile_page_shows_email_and_unverified_badge(member_client, member):
    response = member_client.get(reverse("accounts:profile"))

    assert response.status_code == 200
    assert member.email in response.content.decode()
    assert "Not verified" in response.content.decode()


def test_profile_page_needs_login(client):
    response = client.get(reverse("accounts:profile"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_profile_page_works_for_a_user_without_profile(client):
    user = UserFactory()  # e.g. created by an import
    client.force_login(user)

    response = client.get(reverse("accounts:profile"))

    assert response.status_code == 200


def test_profile_edit_saves_fields(member_client, member):
    response = _edit(member_client)

    assert response.status_code == 302
    profile = Profile.objects.get(user=member)
    assert (profile.display_name, profile.phone, profile.gender) == (
        "Alice",
        "+86 138 0000 0000",
        "female",
    )
    assert profile.birthday.isoformat() == "1990-05-01"


def test_profile_edit_rejects_invalid_phone(member_client, member):
    response = _edit(member_client, phone="call me maybe")

    assert response.status_code == 200
    assert "phone" in response.context["form"].errors
    assert Profile.objects.get(user=member).phone == ""


def test_profile_edit_language_switches_ui_language(member_client, member):
    response = _edit(member_client, language="zh-hans")

    assert response.status_code == 302
    assert response.cookies["django_language"].value == "zh-hans"
    assert Profile.objects.get(user=member).language == "zh-hans"


def test_avatar_upload_is_stored(member_client, member):
    response = _edit(member_client, avatar=_png())

    assert response.status_code == 302
    profile = Profile.objects.get(user=member)
    assert profile.avatar.name.startswith("avatars/")
    assert profile.avatar.storage.exists(profile.avatar.name)


def test_avatar_that_is_not_an_image_is_a_form_error(member_client, member):
    fake = SimpleUploadedFile("avatar.png", b"this is not a picture", content_type="image/png")

    response = _edit(member_client, avatar=fake)

    assert response.status_code == 200
    assert "avatar" in response.context["form"].errors
    assert not Profile.objects.get(user=member).avatar


def test_avatar_larger_than_2mb_is_a_form_error(member_client, member):
    buffer = io.BytesIO()
    Image.frombytes("RGB", (1000, 1000), os.urandom(3_000_000)).save(buffer, "PNG")
    assert buffer.tell() > 2 * 1024 * 1024  # noise does not compress
    big = SimpleUploadedFile("big.png", buffer.getvalue(), content_type="image/png")

    response = _edit(member_client, avatar=big)

    assert response.status_code == 200
    assert "avatar" in response.context["form"].errors


def test_replacing_avatar_deletes_the_old_file(member_client, member, run_on_commit):
    with run_on_commit():
        _edit(member_client, avatar=_png("first.png"))
    old = Profile.objects.get(user=member).avatar
    old_name, storage = old.name, old.storage

    with run_on_commit():
        _edit(member_client, avatar=_png("second.png"))

    assert not storage.exists(old_name)
    assert storage.exists(Profile.objects.get(user=member).avatar.name)
