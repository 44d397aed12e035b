"""Shared pytest fixtures and the skip rules of the suite's markers.

Markers (declared in pyproject.toml):

- ``browser``: headless Chromium end-to-end test; skipped when ``chromium`` is absent.
- ``postgres``: needs PostgreSQL; skipped when the test database is another vendor.
- ``celery_worker``: starts a real Celery worker; skipped unless ``REDIS_URL`` is set.

Celery: the test settings follow the environment, so with ``REDIS_URL`` set the
broker is Redis and tasks are *not* eager (that is what the real-worker tests
need). Every other test runs tasks eagerly, in-process, so that a test which
enqueues a task sees its effect whether or not a worker is running.
"""

import os
import shutil

import pytest

CHROMIUM = shutil.which("chromium")


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("browser") and not CHROMIUM:
        pytest.skip("chromium is not installed (make browser-deps)")
    if item.get_closest_marker("celery_worker") and not os.environ.get("REDIS_URL"):
        pytest.skip("REDIS_URL is not set: no broker for a real Celery worker")
    if item.get_closest_marker("postgres"):
        from django.conf import settings

        if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
            pytest.skip("needs PostgreSQL (set DATABASE_URL=postgres://...)")


@pytest.fixture(autouse=True)
def _celery_eager_unless_real_worker(request: pytest.FixtureRequest):
    """Run Celery tasks in-process, except in tests marked ``celery_worker``."""
    if request.node.get_closest_marker("celery_worker"):
        # Eager tasks run from several threads at once (the concurrency tests) can leave
        # Celery's process-wide "joining would block" flag set (each run saves and restores
        # it, and the threads interleave); this process is no worker, so clear it.
        from celery._state import _set_task_join_will_block

        _set_task_join_will_block(False)
        yield
        return
    from config.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = previous


@pytest.fixture
def api_client():
    """A DRF test client with no credentials."""
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts and ends in the default language.

    A request in zh-hans activates that language for the thread; without this a
    later test would format numbers and messages in Chinese.
    """
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _empty_cache():
    """Every test starts with an empty cache: cached rows of a rolled-back test are gone.

    (On SQLite a rolled-back test also frees its primary keys for the next test, so a
    member's profile-refresh claim could otherwise silence the next member with that id.)
    Local memory is cleared; on Redis only the shop's own keys (``KEY_PREFIX``) are
    deleted, never the whole database: the Celery broker of the real-worker tests
    lives there too.
    """
    from django.conf import settings
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    cache = caches["default"]
    if isinstance(cache, RedisCache):
        prefix = settings.CACHES["default"].get("KEY_PREFIX", "")
        client = cache._cache.get_client(write=True)
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
    else:
        cache.clear()
    yield
