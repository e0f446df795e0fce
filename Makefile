# Two entry points (see README): `make demo` and `make test`. Both build the environment first.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: env ray demo test lint validate bench gpu-check clean

env: $(STAMP)

# The course package (student helpers + grading worker) and the staff tools, both editable. The `compat`
# mode writes a plain .pth path instead of an import hook: nothing importable in site-packages leads a
# student's worker to the hidden graders.
# pip unpacks into TMPDIR: keep that on the venv's own disk (a small /tmp must not fail a 6 GB install) and keep
# no cache copies of the wheels.
PIP    := TMPDIR=$(abspath $(VENV))/.pip-tmp $(PY) -m pip install --quiet --no-cache-dir

$(STAMP): pyproject.toml course/pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	mkdir -p $(VENV)/.pip-tmp
	$(PIP) -e ./course -e '.[staff]' --config-settings editable_mode=compat
	rm -rf $(VENV)/.pip-tmp
	touch $(STAMP)

# Ray, for `autograder batch --engine ray` and its tests: an optional extra, installed for the test suite.
RAY_STAMP := $(VENV)/.installed-ray

ray: $(RAY_STAMP)

$(RAY_STAMP): $(STAMP)
	mkdir -p $(VENV)/.pip-tmp
	$(PIP) -e '.[ray]' --config-settings editable_mode=compat
	rm -rf $(VENV)/.pip-tmp
	touch $(RAY_STAMP)

demo: env
	$(PY) -m autograder demo --out build/demo

# Two test processes (pytest-xdist): most tests wait on a grading worker or a notebook kernel, so two share two
# cores well: 8-17 min on a 2-core machine (27 in one process on the slower of two measured). TEST_JOBS=0 runs it in one.
TEST_JOBS ?= 2

test: env ray
	$(PY) -m pytest tests -n $(TEST_JOBS) --durations=25

# ruff (style, imports, bugbear) on the whole repository; mypy on the harness, the worker and the course helpers
# (both configured in pyproject.toml, both installed by the staff extra).
lint: env
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

validate: env
	$(PY) -m autograder validate

bench: env
	$(PY) benchmarks/grade_speed.py

# The prepared check for a lent GPU (README): CUDA scores beside the CPU's, timings, walls. GPU_DEVICE=cpu rehearses it.
GPU_DEVICE ?= cuda

gpu-check: env
	$(PY) benchmarks/gpu_check.py --device $(GPU_DEVICE) --out build/gpu-check.md

clean:
	rm -rf build .pytest_cache gradebook.db
