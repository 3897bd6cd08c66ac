# CommunityOps: `make run` to try it, `make test` to check it. Needs only Python 3.11 and make.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check
# The PostgreSQL + Redis run of the suite (make test); override for another server.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/communityops
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
TEST_BROKER_URL ?= redis://127.0.0.1:6379/14
# The two passes run side by side, one a core (each prints when it ends); TEST_JOBS=1 runs
# them one after the other.
TEST_JOBS ?= 2

.PHONY: run test test-sqlite test-postgres lint messages lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-run: $(BIN)/python pyproject.toml requirements.lock
	$(PIP) install --quiet -c requirements.lock -e .
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed-run
	$(PIP) install --quiet -c requirements.lock -e ".[dev]"
	@touch $@

messages: $(VENV)/.installed-run
	$(BIN)/python -m config.translations

# DEMO=0 make run: no demo data; a fresh installation opens on its first-run page.
DEMO ?= 1

run: $(VENV)/.installed-run messages
	$(BIN)/python manage.py migrate --noinput
	@if [ "$(DEMO)" != "0" ]; then $(BIN)/python manage.py seed_demo; fi
	$(BIN)/python -m config.run

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m config.translations --check
	@if command -v msgfmt >/dev/null; then \
	  for po in locale/*/LC_MESSAGES/*.po; do msgfmt --check -o /dev/null $$po || exit 1; done; \
	  echo "msgfmt --check: ok"; fi
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(MAKE) --output-sync=target -j$(TEST_JOBS) test-sqlite test-postgres

# The default suite on the embedded SQLite database.
test-sqlite: $(VENV)/.installed-dev
	env -u DATABASE_URL -u REDIS_URL -u CELERY_BROKER_URL -u CELERY_RESULT_BACKEND \
	  $(BIN)/pytest -m "not integration" $(PYTEST_ARGS)

# The same suite again on real PostgreSQL and Redis, plus the integration tests
# (a real Celery worker process). Without those services the tests skip with the reason,
# except under CI=true, where a skip fails the build.
test-postgres: $(VENV)/.installed-dev
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) \
	  CELERY_BROKER_URL=$(TEST_BROKER_URL) CELERY_RESULT_BACKEND=$(TEST_BROKER_URL) \
	  $(BIN)/pytest $(PYTEST_ARGS)

# Re-pin every dependency (after changing pyproject.toml).
lock:
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/python -m pip install --quiet -e ".[dev]"
	echo '# Exact versions for reproducible installs (pip -c). Regenerate with `make lock`.' > requirements.lock
	# --all: setuptools too (the wheel build's, tests/config/test_wheel.py); pip itself is not pinned.
	.venv-lock/bin/python -m pip freeze --all --exclude-editable | grep -v -e '^-e' -e '^pip==' >> requirements.lock
	rm -rf .venv-lock

clean:
	rm -rf $(VENV) var
