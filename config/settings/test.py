"""Settings for the test suite: the base settings plus a cheaper Argon2.

The database, cache and broker still come from the environment, so the same
suite runs on SQLite/eager Celery and on PostgreSQL/Redis.
"""

from .base import *  # noqa: F403

PASSWORD_HASHERS = ["config.hashers.FastArgon2PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
MEDIA_ROOT = BASE_DIR / "var" / "test-media"  # noqa: F405
AXES_FAILURE_LIMIT = 5
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"auth": "1000/min"}}  # noqa: F405
