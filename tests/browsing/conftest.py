"""Fixtures of the browsing tests (storefront pages, behaviour log, history, favourites)."""

import pytest
from django.core.cache import cache
from rest_framework.authtoken.models import Token

from tests.factories import MemberFactory

PASSWORD = "correct-horse-battery-9"  # the factories' password


@pytest.fixture(autouse=True)
def _fresh_cache():
    """The category tree lives in the cache, which outlives each test's rolled
    back transaction: start and end every test with an empty cache."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def member(db):
    return MemberFactory(email="alice@example.com")


@pytest.fixture
def other_member(db):
    return MemberFactory(email="bob@example.com")


@pytest.fixture
def member_client(client, member):
    client.force_login(member)
    return client


@pytest.fixture
def member_api(api_client, member):
    token = Token.objects.create(user=member)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return api_client
