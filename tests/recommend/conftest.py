"""Fixtures of the recommender tests: a tiny shop with two taste groups.

Group A members use products of category "Books", group B of "Garden"; each
member touched 5 of the 8 products of their group, so the 3 others are what a
good model must put first. Training runs with a budget of about a second.
"""

from datetime import timedelta

import numpy as np
import pytest
from django.core.cache import cache
from django.utils import timezone
from rest_framework.authtoken.models import Token

from browsing.models import Event
from recommend import services
from tests.factories import CategoryFactory, MemberFactory, ProductFactory


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    services._ARTEFACTS.clear()
    yield
    cache.clear()
    services._ARTEFACTS.clear()


@pytest.fixture(autouse=True)
def _small_training(settings):
    settings.RECOMMEND_SEARCH_BUDGET_SECONDS = 1.0
    settings.RECOMMEND_VALIDATION_USERS = 100
    settings.RECOMMEND_EXCLUDE_PROVIDERS = []


class World:
    def __init__(self):
        self.books = CategoryFactory(name="Books")
        self.garden = CategoryFactory(name="Garden")
        self.a = [ProductFactory(category=self.books, name=f"Book {i}") for i in range(8)]
        self.b = [ProductFactory(category=self.garden, name=f"Spade {i}") for i in range(8)]
        self.group_a = [MemberFactory(email=f"a{i}@example.com") for i in range(12)]
        self.group_b = [MemberFactory(email=f"b{i}@example.com") for i in range(12)]
        self.touched: dict[int, list[int]] = {}
        rng = np.random.default_rng(3)
        start = timezone.now() - timedelta(days=30)
        rows = []
        for members, products in ((self.group_a, self.a), (self.group_b, self.b)):
            for n, member in enumerate(members):
                picks = rng.choice(len(products), 5, replace=False)
                self.touched[member.pk] = [products[i].pk for i in picks]
                for j, i in enumerate(picks):
                    kind = Event.Type.PURCHASE if j == 4 else Event.Type.VIEW
                    rows.append(
                        Event(
                            user=member,
                            product=products[i],
                            event_type=kind,
                            occurred_at=start + timedelta(hours=n * 24 + j),
                        )
                    )
        Event.objects.bulk_create(rows)

    def untouched(self, member, group):
        return {p.pk for p in group} - set(self.touched[member.pk])


@pytest.fixture
def world(db):
    return World()


@pytest.fixture
def trained(world):
    services.model_train(triggered_by="test", budget_seconds=1.0)
    return world


@pytest.fixture
def member_api(api_client, world):
    member = world.group_a[0]
    token = Token.objects.create(user=member)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    api_client.member = member
    return api_client
