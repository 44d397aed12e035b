# syntax=docker/dockerfile:1
# MemberMall: one image for the web app (gunicorn), the Celery worker and Celery beat.
#
#   docker build -t membermall .
#   docker compose up          (see docker-compose.yml and README.md)
#
# Settings come from the environment (config/settings/production.py): the image
# holds no secret. The secret used below exists only while collectstatic runs.

# --- build: a virtual environment with every requirement -----------------------
FROM python:3.11-slim AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# A compiler for packages without a wheel for this platform (implicit builds from
# source), gettext to compile the translations.
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential gettext \
    && rm -rf /var/lib/apt/lists/*

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

COPY requirements.txt /build/requirements.txt
RUN pip install --upgrade pip \
    && pip install -r /build/requirements.txt

# Compiled translations (locale/ may hold no catalogue yet; a broken .po fails the build).
COPY . /src
RUN mkdir -p /src/locale \
    && find /src/locale -name '*.po' -exec sh -c \
       'for po; do msgfmt --check -o "${po%.po}.mo" "$po" || exit 1; done' _ {} +

# --- runtime -------------------------------------------------------------------
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    DJANGO_SETTINGS_MODULE=config.settings.production \
    MEDIA_ROOT=/app/media

# libgomp1: OpenMP runtime of implicit and scikit-learn's compiled code.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgomp1 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 1000 app \
    && useradd --system --uid 1000 --gid app --home-dir /app --shell /usr/sbin/nologin app

COPY --from=build /opt/venv /opt/venv

# The code stays root-owned and read-only for the app user; it writes only media and static files.
WORKDIR /app
COPY . /app
COPY --from=build /src/locale/ /app/locale/
RUN mkdir -p /app/media /app/staticfiles && chown app:app /app/media /app/staticfiles

USER app

# Hashed, compressed static files for WhiteNoise; the secret is a build-time dummy
# that no running container sees.
RUN DJANGO_SECRET_KEY=build-only-collectstatic-dummy-secret \
    DJANGO_ALLOWED_HOSTS=localhost \
    python manage.py collectstatic --noinput

EXPOSE 8000

# Worker processes: set WEB_CONCURRENCY (gunicorn reads it; default 1 here, 2-4 per core).
CMD ["gunicorn", "config.wsgi:application", \
     "--bind", "0.0.0.0:8000", \
     "--timeout", "60", \
     "--access-logfile", "-", \
     "--error-logfile", "-"]
