"""The production processes of docker-compose.yml, started here as they start in the containers.

gunicorn serves ``config.wsgi`` with ``config.settings.production``, static files
come from collectstatic through WhiteNoise, and ``celery beat`` starts with the
DatabaseScheduler. They run against a throwaway SQLite database migrated for
this module, so the tests need nothing but the virtual environment (beat also
needs REDIS_URL, like the worker tests).
"""

import http.client
import os
import re
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
HOST = "shop.example.com"


@dataclass
class Deployment:
    env: dict[str, str]
    root: Path


@dataclass
class Server:
    port: int
    log: Path

    def get(self, path: str, **headers: str) -> http.client.HTTPResponse:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.body = response.read()
        connection.close()
        return response

    def get_secure(self, path: str) -> http.client.HTTPResponse:
        """A request as the TLS-terminating proxy forwards it."""
        return self.get(path, Host=HOST, **{"X-Forwarded-Proto": "https"})


def run(args: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(
        args, cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def terminate(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Deployment:
    """Production settings on a fresh SQLite file: migrated, static files collected."""
    root = tmp_path_factory.mktemp("deployment")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_URL", "EMAIL_URL", "CELERY_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS=HOST,
        DJANGO_STATIC_ROOT=str(root / "static"),
        DATABASE_URL=f"sqlite:///{root / 'db.sqlite3'}",
    )
    run([sys.executable, "manage.py", "migrate", "--noinput"], env)
    run([sys.executable, "manage.py", "collectstatic", "--noinput"], env)
    return Deployment(env=env, root=root)


@pytest.fixture(scope="module")
def gunicorn(deployment: Deployment) -> Iterator[Server]:
    port = free_port()
    log = deployment.root / "gunicorn.log"
    with log.open("w") as log_file:
        process = subprocess.Popen(
            [str(BIN / "gunicorn"), "config.wsgi:application"]
            + ["--bind", f"127.0.0.1:{port}", "--workers", "2", "--access-logfile", "-"],
            cwd=BASE_DIR,
            env=deployment.env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    server = Server(port=port, log=log)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(f"gunicorn exited early:\n{log.read_text()}")
            try:
                server.get("/", Host=HOST)
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"gunicorn did not answer in 60s:\n{log.read_text()}")
                time.sleep(0.2)
        yield server
    finally:
        terminate(process)


def test_gunicorn_serves_the_home_page_with_production_settings(gunicorn):
    # when the proxy forwards an HTTPS request for the home page
    response = gunicorn.get_secure("/")

    # then it is served, with the production security headers
    assert response.status == 200, gunicorn.log.read_text()
    assert response.getheader("Strict-Transport-Security").startswith("max-age=31536000")
    assert response.getheader("X-Frame-Options") == "DENY"
    assert response.getheader("X-Content-Type-Options") == "nosniff"


def test_gunicorn_serves_hashed_static_files_through_whitenoise(gunicorn):
    # given the home page, whose stylesheet link carries a content hash
    page = gunicorn.get_secure("/").body.decode()
    stylesheet = re.search(r'/static/[^"]+\.[0-9a-f]{12}\.css', page)
    assert stylesheet, page

    # when the stylesheet is requested
    response = gunicorn.get_secure(stylesheet.group(0))

    # then WhiteNoise serves it with a far-future cache lifetime
    assert response.status == 200
    assert response.getheader("Content-Type").startswith("text/css")
    assert "immutable" in response.getheader("Cache-Control")


def test_production_redirects_plain_http_to_https(gunicorn):
    # when a request arrives without the proxy's X-Forwarded-Proto: https
    response = gunicorn.get("/", Host=HOST)

    # then it is sent to the HTTPS address
    assert response.status == 301
    assert response.getheader("Location") == f"https://{HOST}/"


def test_production_rejects_an_unknown_host(gunicorn):
    # when a request names a host that is not in DJANGO_ALLOWED_HOSTS
    response = gunicorn.get("/", Host="evil.example.org", **{"X-Forwarded-Proto": "https"})

    # then it is refused
    assert response.status == 400


@pytest.mark.celery_worker
def test_celery_beat_starts_with_the_database_scheduler(deployment):
    # given production settings with Redis as the broker
    log = deployment.root / "beat.log"
    env = {**deployment.env, "REDIS_URL": os.environ["REDIS_URL"]}

    # when `celery -A config beat` starts as the compose beat service starts it
    with log.open("w") as log_file:
        process = subprocess.Popen(
            [str(BIN / "celery"), "-A", "config", "beat", "--loglevel=INFO"]
            + ["--scheduler=django_celery_beat.schedulers:DatabaseScheduler"]
            + ["--pidfile=", f"--schedule={deployment.root / 'beat-schedule'}"],
            cwd=BASE_DIR,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while "beat: Starting..." not in log.read_text() and time.monotonic() < deadline:
            assert process.poll() is None, log.read_text()
            time.sleep(0.2)
        time.sleep(2)  # the scheduler's first tick reads the schedule from the database

        # then it is running with the database scheduler and has logged no error
        text = log.read_text()
        assert process.poll() is None, text
        assert "beat: Starting..." in text
        assert "django_celery_beat.schedulers.DatabaseScheduler" in text
        assert "ERROR" not in text and "Traceback" not in text, text
    finally:
        terminate(process)
