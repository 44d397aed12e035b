"""Settings modules loaded in a fresh interpreter with a controlled environment.

Each test imports a settings module (or runs manage.py) in a subprocess, so the
environment it sees is exactly the one built here, not the test run's own.
"""

import json
import os
import secrets
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent

# Variables that change what the settings modules compute; each test starts without them.
SETTINGS_VARIABLES = (
    "DJANGO_SETTINGS_MODULE",
    "DJANGO_SECRET_KEY",
    "DJANGO_DEBUG",
    "DJANGO_ALLOWED_HOSTS",
    "DJANGO_SECURE_SSL_REDIRECT",
    "DATABASE_URL",
    "REDIS_URL",
    "EMAIL_URL",
    "CELERY_TASK_ALWAYS_EAGER",
)

DUMP_SETTINGS = textwrap.dedent(
    """
    import json
    from django.conf import settings
    print(json.dumps({
        "DATABASE_ENGINE": settings.DATABASES["default"]["ENGINE"],
        "DATABASE_NAME": str(settings.DATABASES["default"]["NAME"]),
        "CACHE_BACKEND": settings.CACHES["default"]["BACKEND"],
        "CACHE_LOCATION": settings.CACHES["default"].get("LOCATION", ""),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_RESULT_BACKEND": settings.CELERY_RESULT_BACKEND,
        "CELERY_TASK_ALWAYS_EAGER": settings.CELERY_TASK_ALWAYS_EAGER,
        "DEBUG": settings.DEBUG,
    }))
    """
)


def clean_env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARIABLES}
    env.update(overrides)
    return env


def run_python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def load_settings(module: str, **overrides: str) -> dict:
    result = run_python(DUMP_SETTINGS, clean_env(DJANGO_SETTINGS_MODULE=module, **overrides))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def production_env(**overrides: str) -> dict[str, str]:
    return clean_env(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="shop.example.com",
        **overrides,
    )


def test_production_settings_pass_check_deploy_at_warning_level():
    # given production settings with a long random secret and a host name
    env = production_env()

    # when Django's deployment checklist runs
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    # then it reports nothing
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_fails_when_production_runs_with_debug_on():
    # given production settings switched to DEBUG (a mistake the checklist must catch)
    env = production_env(DJANGO_DEBUG="true")

    # when the deployment checklist runs
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    # then it fails and names the DEBUG warning
    assert result.returncode != 0
    assert "security.W018" in result.stdout + result.stderr


def test_production_settings_refuse_to_load_without_a_secret_key():
    # given production settings and no DJANGO_SECRET_KEY
    env = clean_env(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_ALLOWED_HOSTS="shop.example.com",
    )
    code = textwrap.dedent(
        """
        from django.core.exceptions import ImproperlyConfigured
        try:
            import config.settings.production
        except ImproperlyConfigured as exc:
            print("ImproperlyConfigured:", exc)
        else:
            print("loaded")
        """
    )

    # when the module is imported
    result = run_python(code, env)

    # then loading fails with ImproperlyConfigured naming the missing variable
    assert result.returncode == 0, result.stderr
    assert "ImproperlyConfigured" in result.stdout
    assert "DJANGO_SECRET_KEY" in result.stdout


def test_base_settings_without_services_use_sqlite_eager_celery_and_local_memory_cache():
    # given no DATABASE_URL and no REDIS_URL
    # when the base settings load
    loaded = load_settings("config.settings.base")

    # then nothing needs to be running
    assert loaded["DATABASE_ENGINE"] == "django.db.backends.sqlite3"
    assert loaded["DATABASE_NAME"].endswith("db.sqlite3")
    assert loaded["CACHE_BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"
    assert loaded["CELERY_TASK_ALWAYS_EAGER"] is True
    assert loaded["CELERY_BROKER_URL"] == "memory://"


def test_base_settings_with_services_use_postgresql_and_redis():
    # given DATABASE_URL and REDIS_URL
    # when the base settings load
    loaded = load_settings(
        "config.settings.base",
        DATABASE_URL="postgres://shop:secret@db.internal:5432/membermall",
        REDIS_URL="redis://cache.internal:6379/2",
    )

    # then PostgreSQL, the Redis cache and a Redis broker with real workers are used
    assert loaded["DATABASE_ENGINE"] == "django.db.backends.postgresql"
    assert loaded["DATABASE_NAME"] == "membermall"
    assert loaded["CACHE_BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert loaded["CACHE_LOCATION"] == "redis://cache.internal:6379/2"
    assert loaded["CELERY_BROKER_URL"] == "redis://cache.internal:6379/2"
    assert loaded["CELERY_RESULT_BACKEND"] == "redis://cache.internal:6379/2"
    assert loaded["CELERY_TASK_ALWAYS_EAGER"] is False


def test_test_settings_with_redis_send_tasks_to_the_broker():
    # given the test settings with REDIS_URL set (as in CI's PostgreSQL + Redis run)
    # when they load
    loaded = load_settings("config.settings.test", REDIS_URL="redis://127.0.0.1:6379/15")

    # then Celery is not eager, so the real-worker tests reach a worker
    assert loaded["CELERY_TASK_ALWAYS_EAGER"] is False
    assert loaded["CELERY_BROKER_URL"] == "redis://127.0.0.1:6379/15"


@pytest.mark.parametrize("value, expected", [("true", True), ("false", False)])
def test_celery_eager_mode_can_be_forced_from_the_environment(value, expected):
    # given REDIS_URL and an explicit CELERY_TASK_ALWAYS_EAGER
    # when the base settings load
    loaded = load_settings(
        "config.settings.base",
        REDIS_URL="redis://127.0.0.1:6379/0",
        CELERY_TASK_ALWAYS_EAGER=value,
    )

    # then the explicit value wins
    assert loaded["CELERY_TASK_ALWAYS_EAGER"] is expected
