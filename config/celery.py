"""The Celery app. Settings come from Django settings with the CELERY_ prefix.

With REDIS_URL unset the tasks run eagerly in-process (CELERY_TASK_ALWAYS_EAGER),
so the same code path serves a laptop and production.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

app = Celery("membermall")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
