import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fresh_cache():
    """The category tree lives in the cache, which outlives each test's rolled
    back transaction: start and end every test with an empty cache."""
    cache.clear()
    yield
    cache.clear()
