from datetime import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.factories import MemberFactory, OrderFactory


def completed_order(user, total: str, at: datetime, **kw):
    """A completed order worth ``total`` placed and completed at ``at`` (no signals)."""
    amount = Decimal(total)
    return OrderFactory(
        user=user,
        status="completed",
        subtotal=amount,
        total=amount,
        placed_at=at,
        paid_at=at,
        completed_at=at,
        **kw,
    )


@pytest.fixture
def member(db):
    return MemberFactory()


@pytest.fixture
def now():
    return timezone.now().replace(microsecond=0)


@pytest.fixture
def member_client(client, member):
    client.force_login(member)
    return client


@pytest.fixture
def member_api(api_client, member):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=member)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return api_client
