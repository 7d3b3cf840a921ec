# Quick start: `make run` serves the portal with demo data; `make test` runs every check.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
RUN_VAR := $(or $(VAR_DIR),var)

.PHONY: run test test-fast lint typecheck format clean bench bench-seed soak messages

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.run-deps: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-deps: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.run-deps

# Web server (gunicorn, reloading on code changes), Celery worker, beat and the SMS simulator,
# each restarted if it exits (portal/runner.py); Ctrl-C stops them all.
run: export DEBUG := $(or $(DEBUG),1)
run: export PORT := $(PORT)
run: export GUNICORN_RELOAD := $(if $(filter 1 true yes on,$(DEBUG)),--reload,)
# The local SMS platform simulator answers test messages and pushes their reports back.
run: export SIMULATOR_PORT := $(or $(SIMULATOR_PORT),$(shell echo $$(($(PORT) + 1))))
run: export SMS_API_URL := $(or $(SMS_API_URL),http://127.0.0.1:$(SIMULATOR_PORT))
run: export SMS_APP_KEY := $(or $(SMS_APP_KEY),demo-app-key)
run: export SMS_APP_SECRET := $(or $(SMS_APP_SECRET),demo-app-secret)
run: export SMS_SENDER := $(or $(SMS_SENDER),csms12345678)
run: export SMS_TEST_TEMPLATE_ID := $(or $(SMS_TEST_TEMPLATE_ID),demo-test-template)
run: export PORTAL_BASE_URL := $(or $(PORTAL_BASE_URL),http://127.0.0.1:$(PORT))
run: $(VENV)/.run-deps
	@# The same values in .env, so manage.py commands typed later see them too.
	$(BIN)/python -m portal.devenv
	$(BIN)/python manage.py migrate --noinput --verbosity 0
	@mkdir -p $(RUN_VAR)
	@{ $(BIN)/python manage.py seed_demo | sed 's/^/  /'; echo; \
	   echo "  Ctrl-C stops the web server, worker, beat and SMS simulator."; \
	   echo "  Portal: $(PORTAL_BASE_URL)/"; } > $(RUN_VAR)/run-banner.txt
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/python -m portal.runner Procfile \
		--ready-url http://127.0.0.1:$(PORT)/healthz --banner $(RUN_VAR)/run-banner.txt

# Soak: `make run` in a temporary folder under steady traffic for SOAK_MINUTES, then Ctrl-C;
# fails on any 5xx, process restart, lost or doubled status report, or process left behind.
SOAK_MINUTES ?= 10

soak: $(VENV)/.run-deps
	$(BIN)/python bench/soak.py --minutes $(SOAK_MINUTES)

lint: $(VENV)/.dev-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# mypy with django-stubs: strict for diagnosis, the defaults elsewhere ([tool.mypy] in pyproject.toml).
typecheck: $(VENV)/.dev-deps
	$(BIN)/mypy

# Everything CI checks, the slow tests included (CI calls this target).
test: lint typecheck
	DJANGO_SETTINGS_MODULE=tests.settings $(BIN)/python manage.py check --fail-level WARNING
	DJANGO_SETTINGS_MODULE=tests.settings $(BIN)/python manage.py makemigrations --check --dry-run
	# The guide engine carries the product: keep its branch coverage at 95% or more.
	$(BIN)/pytest --cov=diagnosis.guide --cov-branch --cov-report=term-missing:skip-covered --cov-fail-under=95
	# The run's log (every record, every level) must hold no token, phone number or email address.
	$(BIN)/python -m tests.log_audit var/test-logs/suite.log

# The test suite without the tests marked slow, for a quicker run while working.
test-fast: $(VENV)/.dev-deps
	$(BIN)/pytest -m "not slow"
	$(BIN)/python -m tests.log_audit var/test-logs/suite.log

# Benchmarks on a PostgreSQL database of their own (BENCH_DB, default `bench`), seeded when empty
# with BENCH_CASES / BENCH_REPORTS (default 1,000,000 / 10,000,000); the growth curve also uses
# <BENCH_DB>_10k and <BENCH_DB>_100k (seeded when empty; BENCH_GROWTH=0 skips it). Writes
# bench/results/latest.json; `python -m bench.readme` copies its tables into README.md.
# See "Performance" in README.md.
BENCH_DB ?= bench
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/$(BENCH_DB)

/usr/bin/wrk:
	apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk

bench: $(VENV)/.run-deps /usr/bin/wrk
	BENCH_DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python bench/run.py

# Reseed from scratch (drops what is there): make bench-seed BENCH_CASES=2000 BENCH_REPORTS=20000
bench-seed: $(VENV)/.run-deps
	-createdb -h 127.0.0.1 -U postgres $(BENCH_DB) 2>/dev/null
	DATABASE_URL=$(BENCH_DATABASE_URL) DEBUG=1 $(BIN)/python manage.py migrate --noinput --verbosity 0
	DATABASE_URL=$(BENCH_DATABASE_URL) DEBUG=1 $(BIN)/python -m bench.seed --reset \
		--cases $(or $(BENCH_CASES),1000000) --reports $(or $(BENCH_REPORTS),10000000)

# Translations: collect the marked strings into locale/<lang>/LC_MESSAGES/django.po (existing
# translations kept, new ones empty), then compile the .mo files the portal reads. Needs GNU
# gettext. The .mo files are committed, so running the portal needs no gettext.
LANGS ?= zh_Hans
MESSAGES_IGNORE := --ignore=.venv --ignore=var --ignore=tests --ignore=bench --ignore=node_modules
messages: $(VENV)/.run-deps
	$(BIN)/python -m diagnosis.delivery.catalogue_texts
	DEBUG=1 $(BIN)/python manage.py makemessages $(addprefix -l ,$(LANGS)) \
		--no-obsolete --no-wrap --add-location=file $(MESSAGES_IGNORE)
	DEBUG=1 $(BIN)/python manage.py compilemessages $(addprefix -l ,$(LANGS)) $(MESSAGES_IGNORE)

format: $(VENV)/.dev-deps
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) var
