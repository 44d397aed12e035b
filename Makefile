# MemberMall: `make run` serves the demo shop, `make test` runs lint and the suite.
# Both work on a fresh clone: they create .venv and install requirements.txt.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
PORT ?= 8000
SEED ?= 42
SCALE ?= small
RECOMMEND_BUDGET ?= 60

.PHONY: run test venv migrate seed lint format worker beat messages browser-deps clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)

$(VENV)/.installed: requirements.txt | $(BIN)/activate
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

venv: $(VENV)/.installed

migrate: venv
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo --seed $(SEED) --scale $(SCALE)
	$(PY) manage.py train_recommender --quiet --budget $(RECOMMEND_BUDGET)

run: seed
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

lint: venv
	$(BIN)/ruff check .

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: venv lint
	$(BIN)/pytest

worker: venv
	$(BIN)/celery -A config worker --loglevel=INFO

beat: venv
	$(BIN)/celery -A config beat --loglevel=INFO

messages: venv
	$(PY) manage.py makemessages -l zh_Hans --ignore=.venv --ignore=staticfiles
	$(PY) manage.py compilemessages -l zh_Hans --ignore=.venv

# Debian's Chromium for the browser tests (they are skipped when it is absent).
# A CJK font so Chinese pages render in screenshots, not as empty boxes.
browser-deps:
	(command -v chromium >/dev/null && fc-list :lang=zh | grep -q .) || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache staticfiles var
