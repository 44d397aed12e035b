"""Training through a real Celery worker (Redis broker, PostgreSQL shared with the test).

Skipped unless REDIS_URL is set and the database is PostgreSQL (a worker process
cannot see SQLite's in-memory test database).
"""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.db import connection

from config.celery import app
from recommend.models import MemberList, ModelVersion
from tests.test_infra_celery_worker import Worker, stop, wait_until_ready

BASE_DIR = Path(__file__).resolve().parent.parent.parent
CELERY = Path(sys.executable).with_name("celery")

pytestmark = [pytest.mark.celery_worker, pytest.mark.postgres]


@pytest.fixture
def worker_on_test_database(tmp_path):
    s = connection.settings_dict
    url = f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    queue = f"mm-reco-{uuid.uuid4().hex[:12]}"
    nodename = f"{queue}@localhost"
    log = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DATABASE_URL": url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "RECOMMEND_SEARCH_BUDGET_SECONDS": "1",
    }
    with log.open("w") as log_file:
        process = subprocess.Popen(
            [str(CELERY), "-A", "config", "worker", "--pool=solo", "-c", "1", "-Q", queue,
             "-n", nodename, "--without-gossip", "--without-mingle", "--loglevel=INFO"],
            cwd=BASE_DIR, env=env, stdout=log_file, stderr=subprocess.STDOUT,
        )  # fmt: skip
    worker = Worker(queue=queue, nodename=nodename, process=process, log=log, mail_dir=tmp_path)
    default_queue = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    try:
        wait_until_ready(worker)
        yield worker
    finally:
        app.conf.task_default_queue = default_queue
        stop(worker)


@pytest.mark.django_db(transaction=True)
def test_training_runs_on_a_real_worker_and_publishes(worker_on_test_database):
    from recommend.tasks import train_recommender
    from tests.recommend.conftest import World

    world = World()  # committed: the worker's own connection sees it

    result = train_recommender.delay(triggered_by="worker-test", budget_seconds=1.0)

    try:
        outcome = result.get(timeout=180)
    except Exception as exc:
        pytest.fail(f"the task failed: {exc!r}\n{worker_on_test_database.log_text()}")
    version = ModelVersion.objects.get(pk=outcome["version_id"])
    assert version.status == ModelVersion.Status.LIVE
    assert MemberList.objects.filter(version=version).count() == len(world.touched)
    result.forget()
