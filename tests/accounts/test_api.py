"""Accounts REST API: auth, me/, addresses, export and deletion."""

import secrets

import pytest
from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.throttling import ScopedRateThrottle

from accounts.models import Address, Profile, User
from browsing.models import Event
from tests.accounts.conftest import PASSWORD, STRONG_PASSWORD
from tests.factories import AddressFactory, BrandFactory, CategoryFactory, MemberFactory

pytestmark = pytest.mark.django_db

ADDRESS = {
    "recipient_name": "Han Meimei",
    "phone": "13912345678",
    "country": "CN",
    "city": "Shanghai",
    "line1": "100 Nanjing Road",
    "postal_code": "200001",
}


# --- auth -----------------------------------------------------------------------------------


def test_register_returns_member_and_token(api_client, run_on_commit):
    with run_on_commit():
        response = api_client.post(
            "/api/v1/auth/register/",
            {"email": "Api@Example.com", "password": STRONG_PASSWORD, "display_name": "Api"},
            format="json",
        )

    assert response.status_code == 201
    body = response.json()
    assert body["email"] == "api@example.com"
    assert body["email_verified"] is False
    assert Token.objects.get(user__email="api@example.com").key == body["token"]


def test_register_duplicate_email_in_other_case_is_400(api_client):
    MemberFactory(email="taken@example.com")

    response = api_client.post(
        "/api/v1/auth/register/",
        {"email": "TAKEN@example.com", "password": STRONG_PASSWORD},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["code"] == "email_taken"


def test_register_weak_password_is_400_with_reasons(api_client):
    response = api_client.post(
        "/api/v1/auth/register/",
        {"email": "weak@example.com", "password": "short"},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_password"
    assert response.json()["detail"]["password"]
    assert not User.objects.filter(email="weak@example.com").exists()


def test_malformed_json_body_is_400_json_error(api_client):
    response = api_client.generic(
        "POST", "/api/v1/auth/register/", '{"email": "x@example.com", ', "application/json"
    )

    assert response.status_code == 400
    assert set(response.json()) == {"code", "message", "detail"}
    assert response.json()["code"] == "parse_error"


def test_token_for_right_credentials(api_client, member):
    response = api_client.post(
        "/api/v1/auth/token/", {"email": "Alice@Example.com", "password": PASSWORD}, format="json"
    )

    assert response.status_code == 200
    assert response.json() == {"token": Token.objects.get(user=member).key}


def test_token_for_wrong_password_is_400(api_client, member):
    response = api_client.post(
        "/api/v1/auth/token/", {"email": member.email, "password": "nope-nope-1"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_credentials"


def test_token_lockout_after_five_failures_refuses_right_password(api_client, member):
    for _ in range(5):
        api_client.post(
            "/api/v1/auth/token/", {"email": member.email, "password": "nope-nope-1"}, format="json"
        )

    response = api_client.post(
        "/api/v1/auth/token/", {"email": member.email, "password": PASSWORD}, format="json"
    )

    assert response.status_code == 429
    assert response.json()["code"] == "locked_out"
    assert not Token.objects.filter(user=member).exists()


def test_auth_endpoints_are_throttled(api_client, monkeypatch):
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"auth": "2/min"})
    client_ip = f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250)}"
    cache.delete(f"throttle_auth_{client_ip}")

    statuses = [
        api_client.post(
            "/api/v1/auth/password-reset/",
            {"email": "a@example.com"},
            format="json",
            REMOTE_ADDR=client_ip,
        ).status_code
        for _ in range(3)
    ]

    cache.delete(f"throttle_auth_{client_ip}")
    assert statuses == [202, 202, 429]


# --- me/ ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/me/"),
        ("patch", "/api/v1/me/"),
        ("delete", "/api/v1/me/"),
        ("get", "/api/v1/me/export/"),
        ("get", "/api/v1/me/addresses/"),
        ("post", "/api/v1/me/addresses/1/set-default/"),
    ],
)
def test_unauthenticated_is_401(api_client, method, path):
    response = getattr(api_client, method)(path)

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_me_returns_profile_and_preferences(member_api, member):
    response = member_api.get("/api/v1/me/")

    assert response.status_code == 200
    body = response.json()
    assert body["email"] == member.email
    assert body["favourite_categories"] == []
    assert body["marketing_opt_in"] is False


def test_patch_me_updates_profile_and_preferences(member_api, member):
    category, brand = CategoryFactory(), BrandFactory()

    response = member_api.patch(
        "/api/v1/me/",
        {
            "display_name": "Ally",
            "language": "zh-hans",
            "favourite_categories": [category.pk],
            "favourite_brands": [brand.pk],
            "marketing_opt_in": True,
        },
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["favourite_categories"] == [category.pk]
    profile = Profile.objects.get(user=member)
    assert (profile.display_name, profile.language) == ("Ally", "zh-hans")
    assert profile.preferences_set_at is not None


def test_patch_me_keeps_preferences_not_sent(member_api, member):
    brand = BrandFactory()
    member_api.patch("/api/v1/me/", {"favourite_brands": [brand.pk]}, format="json")

    member_api.patch("/api/v1/me/", {"marketing_opt_in": True}, format="json")

    assert list(Profile.objects.get(user=member).favourite_brands.all()) == [brand]


def test_patch_me_cannot_change_email(member_api, member):
    member_api.patch("/api/v1/me/", {"email": "new@example.com"}, format="json")

    member.refresh_from_db()
    assert member.email == "alice@example.com"


def test_patch_me_invalid_phone_and_unknown_brand_are_400(member_api, member):
    response = member_api.patch(
        "/api/v1/me/", {"phone": "not a phone", "favourite_brands": [999999]}, format="json"
    )

    assert response.status_code == 400
    assert {"phone", "favourite_brands"} <= set(response.json()["detail"])
    assert Profile.objects.get(user=member).phone == ""


def test_export_contains_own_data_only(member_api, member, other_member):
    Event.objects.create(user=member, event_type=Event.Type.SEARCH, query="mine")
    Event.objects.create(user=other_member, event_type=Event.Type.SEARCH, query="theirs")

    response = member_api.get("/api/v1/me/export/")

    assert response.status_code == 200
    assert [e["query"] for e in response.json()["events"]] == ["mine"]


def test_delete_me_needs_the_password(member_api, member):
    response = member_api.delete("/api/v1/me/", {"password": "wrong-one-1"}, format="json")

    assert response.status_code == 400
    assert "password" in response.json()["detail"]
    member.refresh_from_db()
    assert member.is_active is True


def test_delete_me_anonymises_and_revokes_the_token(member_api, member):
    response = member_api.delete("/api/v1/me/", {"password": PASSWORD}, format="json")

    assert response.status_code == 204
    member.refresh_from_db()
    assert member.email == f"deleted-{member.pk}@invalid.example"
    assert member_api.get("/api/v1/me/").status_code == 401


# --- addresses ------------------------------------------------------------------------------


def test_address_list_shows_only_own(member_api, member, other_member):
    mine = AddressFactory(user=member, is_default=True)
    AddressFactory(user=other_member, is_default=True)

    response = member_api.get("/api/v1/me/addresses/")

    assert response.status_code == 200
    assert [a["id"] for a in response.json()["results"]] == [mine.pk]


def test_address_list_query_count_is_pinned(member_api, member, django_assert_max_num_queries):
    AddressFactory(user=member, is_default=True)
    AddressFactory.create_batch(20, user=member)

    with django_assert_max_num_queries(4):
        response = member_api.get("/api/v1/me/addresses/?page_size=50")

    assert len(response.json()["results"]) == 21


def test_create_first_address_becomes_default(member_api, member):
    response = member_api.post("/api/v1/me/addresses/", ADDRESS, format="json")

    assert response.status_code == 201
    assert response.json()["is_default"] is True
    assert Address.objects.get(user=member).is_default is True


def test_create_address_with_bad_phone_and_postal_code_is_400(member_api, member):
    response = member_api.post(
        "/api/v1/me/addresses/", {**ADDRESS, "phone": "x", "postal_code": "?"}, format="json"
    )

    assert response.status_code == 400
    assert {"phone", "postal_code"} <= set(response.json()["detail"])
    assert not Address.objects.filter(user=member).exists()


def test_create_address_missing_fields_is_400(member_api):
    response = member_api.post("/api/v1/me/addresses/", {"city": "Shanghai"}, format="json")

    assert response.status_code == 400
    assert "line1" in response.json()["detail"]


def test_patch_address_and_set_default(member_api, member):
    first = AddressFactory(user=member, is_default=True)
    second = AddressFactory(user=member)

    patched = member_api.patch(
        f"/api/v1/me/addresses/{second.pk}/", {"city": "Ningbo"}, format="json"
    )
    made_default = member_api.post(f"/api/v1/me/addresses/{second.pk}/set-default/")

    assert patched.status_code == 200 and patched.json()["city"] == "Ningbo"
    assert made_default.status_code == 200 and made_default.json()["is_default"] is True
    first.refresh_from_db()
    assert first.is_default is False


def test_unsetting_the_default_via_api_is_400(member_api, member):
    only = AddressFactory(user=member, is_default=True)

    response = member_api.patch(
        f"/api/v1/me/addresses/{only.pk}/", {"is_default": False}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "default_address_required"


def test_delete_default_address_promotes_another(member_api, member):
    default = AddressFactory(user=member, is_default=True)
    other = AddressFactory(user=member)

    response = member_api.delete(f"/api/v1/me/addresses/{default.pk}/")

    assert response.status_code == 204
    other.refresh_from_db()
    assert other.is_default is True


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("get", ""), ("patch", ""), ("put", ""), ("delete", ""), ("post", "set-default/")],
)
def test_another_members_address_is_404(member_api, other_member, method, suffix):
    theirs = AddressFactory(user=other_member, is_default=True, city="Beijing")

    response = getattr(member_api, method)(
        f"/api/v1/me/addresses/{theirs.pk}/{suffix}", {**ADDRESS, "city": "X"}, format="json"
    )

    assert response.status_code == 404
    assert response.json()["code"] in {"not_found", "address_not_found"}
    theirs.refresh_from_db()
    assert (theirs.city, theirs.is_default) == ("Beijing", True)


def test_schema_generates_for_accounts_views(client):
    response = client.get("/api/schema/")

    assert response.status_code == 200
    assert b"/api/v1/me/addresses/{id}/set-default/" in response.content
