import pytest
from rest_framework.authtoken.models import Token

from tests.factories import MemberFactory

PASSWORD = "correct-horse-battery-9"  # the factories' password
STRONG_PASSWORD = "Plum-orchard-lantern-42"


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


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Run the on-commit callbacks (task enqueues) of the block, as a real commit would."""

    def runner():
        return django_capture_on_commit_callbacks(execute=True)

    return runner
