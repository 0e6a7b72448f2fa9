# One entry point per task; every target sets up its own environment first.
UV_VERSION := 0.13.8
export UV_PYTHON_DOWNLOADS := never
PYTEST_ARGS ?=

.PHONY: env test test-fast render preview benchmark data clean

env:
	@command -v uv >/dev/null 2>&1 || python3 -m pip install --quiet "uv==$(UV_VERSION)"
	uv sync --locked

test: env
	uv run --locked pytest -n 2 $(PYTEST_ARGS)

test-fast: env
	uv run --locked pytest -n 2 -m "not slow" $(PYTEST_ARGS)

render: env
	uv run --locked quarto render

preview: env
	uv run --locked quarto preview

benchmark: env
	uv run --locked python benchmarks/sampling_speed.py

data: env
	uv run --locked python -m pooling.simulate data

clean:
	rm -rf _site _freeze .jupyter_cache .pytest_cache
