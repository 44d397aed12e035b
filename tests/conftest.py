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
        yield
        return
    from config.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def _empty_cache():
    """Every test starts with an empty cache (cached rows of a rolled-back test are gone)."""
    from django.core.cache import cache

    cache.clear()


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
