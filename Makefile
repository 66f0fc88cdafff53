# The two set-up commands are `make run` and `make test`; everything they need is installed here.
PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: install run test lint fmt bench clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

install: $(UV)
	$(UV) sync --frozen --quiet --python $(PYTHON)

run: install
	$(VENV)/bin/okno serve

test: install
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	mkdir -p .typecheck/okno
	for area in platform portal admin; do ln -sfn ../../$$area .typecheck/okno/$$area; done
	$(VENV)/bin/mypy -p okno.platform -p okno.portal -p okno.admin

# A benchmark, not a test: about 5-10 minutes; BENCH_ARGS="--help" lists what can be scaled.
bench: install
	$(VENV)/bin/python -m bench $(BENCH_ARGS)

fmt: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache .ruff_cache
