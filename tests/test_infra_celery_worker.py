"""A real Celery worker process, fed through Redis, runs our tasks.

Skipped unless REDIS_URL is set (tests/conftest.py). The worker listens on a
queue of its own, so a developer's running worker on the same Redis cannot
steal the test's messages, and the test's messages never reach theirs.
"""

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from config.celery import app

BASE_DIR = Path(__file__).resolve().parent.parent
CELERY = Path(sys.executable).with_name("celery")
READY_TIMEOUT = 60.0

pytestmark = pytest.mark.celery_worker


@dataclass
class Worker:
    queue: str
    nodename: str
    process: subprocess.Popen
    log: Path
    mail_dir: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def wait_until_ready(worker: Worker) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if worker.process.poll() is not None:
            pytest.fail(f"the Celery worker exited early:\n{worker.log_text()}")
        if app.control.ping(destination=[worker.nodename], timeout=0.5):
            return
        time.sleep(0.2)
    pytest.fail(
        f"the Celery worker did not answer a ping in {READY_TIMEOUT}s:\n{worker.log_text()}"
    )


def stop(worker: Worker) -> None:
    if worker.process.poll() is None:
        worker.process.terminate()  # warm shutdown
        try:
            worker.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.process.kill()
            worker.process.wait(timeout=10)
    # Forget the queue's routing entries that kombu's Redis transport leaves behind.
    with app.connection_for_write() as connection:
        client = connection.default_channel.client
        for key in client.scan_iter(match=f"_kombu.binding*.{worker.queue}"):
            client.delete(key)


@pytest.fixture
def celery_worker_process(tmp_path: Path) -> Iterator[Worker]:
    """Start `celery -A config worker` on a unique queue and wait until it answers a ping.

    The worker uses the base settings (the test settings swap in the in-memory
    mail backend), the same DATABASE_URL and REDIS_URL as this process, and
    files e-mail into a temporary folder.
    """
    queue = f"mm-test-{uuid.uuid4().hex[:12]}"
    nodename = f"{queue}@localhost"
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    log = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "EMAIL_URL": f"filemail:///{mail_dir}",  # django-environ drops one leading "/"
        "CELERY_TASK_ALWAYS_EAGER": "false",
    }
    with log.open("w") as log_file:
        process = subprocess.Popen(
            [
                str(CELERY),
                "-A",
                "config",
                "worker",
                "--pool=solo",
                "-c",
                "1",
                "-Q",
                queue,
                "-n",
                nodename,
                "--without-gossip",
                "--without-mingle",
                "--loglevel=INFO",
            ],
            cwd=BASE_DIR,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    worker = Worker(queue=queue, nodename=nodename, process=process, log=log, mail_dir=mail_dir)
    # Tasks sent with a plain .delay() go to the worker's queue for this test only.
    default_queue = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    try:
        wait_until_ready(worker)
        yield worker
    finally:
        app.conf.task_default_queue = default_queue
        stop(worker)


def test_send_email_task_runs_on_a_real_worker_and_sends_the_mail(celery_worker_process):
    # given a running worker, and this process sending tasks to the broker (not eager)
    from accounts.tasks import send_email_task

    assert app.conf.task_always_eager is False
    subject = f"Worker check {uuid.uuid4().hex[:8]}"

    # when the task is enqueued the way the application enqueues it
    result = send_email_task.delay(to=["a@example.com"], subject=subject, body="Hello from Celery.")

    # then the worker runs it successfully and the mail lands in the worker's mail folder
    try:
        result.get(timeout=60)
    except Exception as exc:  # show the worker's log with any failure
        pytest.fail(f"the task failed: {exc!r}\n{celery_worker_process.log_text()}")
    assert result.successful()
    mails = [p.read_text() for p in celery_worker_process.mail_dir.iterdir()]
    assert len(mails) == 1, celery_worker_process.log_text()
    assert f"Subject: {subject}" in mails[0]
    assert "a@example.com" in mails[0]
    result.forget()


def test_a_real_worker_returns_results_through_the_redis_backend(celery_worker_process):
    # given a running worker and Celery's built-in accumulate task (no app code involved)
    accumulate = app.tasks["celery.accumulate"]

    # when it is enqueued with arguments
    result = accumulate.delay(1, 2, 3)

    # then the worker's return value comes back through the result backend
    assert result.get(timeout=60) == [1, 2, 3]  # JSON turns the tuple into a list
    assert result.successful()
    result.forget()
