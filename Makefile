# One entry point per task; every target sets up its own environment first.
UV_VERSION := 0.13.8
export UV_PYTHON_DOWNLOADS := never
PYTEST_ARGS ?=

.PHONY: env site test test-fast render preview refreeze refreeze-all sweep benchmark data clean vendor wheel

# uv is run as a module of the project's Python (.python-version) so no PATH shim can pick another.
UV := python3 -m uv

# --compile-bytecode: imports read precompiled .pyc files instead of compiling every module's
# source again in each new process, which they otherwise do wherever PYTHONDONTWRITEBYTECODE is
# set (importing PyMC, nutpie and ArviZ took 16 s per process that way, 5 s precompiled; a
# render starts a kernel per page, the tests dozens of processes).
env:
	@$(UV) --version 2>/dev/null | grep -q "$(UV_VERSION)" || python3 -m pip install --quiet "uv==$(UV_VERSION)"
	$(UV) sync --locked --compile-bytecode

# The rendered site that the browser tests read: `quarto render` runs only when _site/ is missing
# or a page's output is older than its sources (tests/support/rendered.py decides, and the tests use the
# same rule to fail on a stale site). With _freeze/ current, rendering executes no code.
site: env wheel
	@$(UV) run --locked python tests/support/rendered.py --quiet || $(MAKE) --no-print-directory render

# Everything, including the browser tests against _site/ (hence `site` first).
test: site
	$(UV) run --locked pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

# No sampling, no chapter runs, no rendered site (so no Quarto needed).
test-fast: env
	$(UV) run --locked pytest -n 2 --dist loadgroup -m "not slow and not browser and not site" $(PYTEST_ARGS)

# A page with inline expressions (`{python} x`) cannot be replayed from the Jupyter cache, so
# Quarto executes it once per output format (the HTML page, then the notebook). The second
# execution reads the first one's posterior draws back from .fit_cache/ instead of sampling the
# same models again: the sitecustomize in tests/support/fitcache_site wraps pooling.fitting.fit
# in the fit cache of tests/support/fitcache.py, keyed by the model's structure, data and
# log density, the sampler settings (seed included) and the library versions. Identical inputs
# give identical draws, so the pages show exactly what sampling again would show.
RENDER_ENV := POOLING_FIT_CACHE="$(CURDIR)/.fit_cache" PYTHONPATH="$(CURDIR)/tests/support/fitcache_site"

# Pages whose frozen results are stale are executed first, RENDER_JOBS at a time (each by its
# own `quarto render <page>`, see tools/execute_pages.py); the final `quarto render` then finds
# every page frozen and assembles the site.
RENDER_JOBS ?= 2

define execute_and_render
	$(RENDER_ENV) $(UV) run --locked python tools/execute_pages.py --jobs $(RENDER_JOBS)
	$(RENDER_ENV) $(UV) run --locked quarto render
endef

render: env wheel
	@command -v quarto >/dev/null || { echo "quarto is not on the PATH: install Quarto (see README.md, Two commands) to render the site" >&2; exit 1; }
	$(execute_and_render)

preview: env
	$(UV) run --locked quarto preview

# Re-execute exactly the pages whose source changed since their results were frozen
# (tools/freeze_status.py compares Quarto's source hash in _freeze/), then render the site.
refreeze: env
	$(execute_and_render)

# After changing src/pooling/ or data/ (which Quarto's freeze does not track): every page.
# The Jupyter cache is deleted rather than bypassed with --cache-refresh: with --cache-refresh
# each page would execute once per output format (HTML and notebook) instead of once.
refreeze-all: env wheel
	rm -rf _freeze chapters/.jupyter_cache .jupyter_cache .fit_cache
	$(execute_and_render)

# Every chapter and every gated test fit under seeds 1-10 (about an hour on 2 cores).
sweep: env
	$(UV) run --locked python benchmarks/convergence_sweep.py --tests

benchmark: env
	$(UV) run --locked python benchmarks/sampling_speed.py

# What students install (setup.qmd): the package as a wheel, with the data sets and their codebook
# inside (pooling/_data), and the locked versions of its dependencies, in dist/. `quarto render`
# publishes both next to the pages (_quarto.yml, project: resources); an already rendered _site/
# gets the new copies at once.
wheel: env
	rm -rf dist
	$(UV) build --out-dir dist
	$(UV) export --frozen --no-dev --no-hashes --no-emit-project --quiet --output-file dist/requirements.txt
	@if [ -d _site ]; then mkdir -p _site/dist && cp dist/*.whl dist/requirements.txt _site/dist/; fi

data: env
	$(UV) run --locked python -m pooling.simulate data

# Re-fetch the third-party files that the site serves itself (KaTeX, the themes' web fonts,
# chapter 6's Observable libraries) from the npm registry into assets/vendor/; needs npm.
# Rendering never fetches them. `python tools/vendor_assets.py --check` compares instead.
vendor: env
	$(UV) run --locked python tools/vendor_assets.py

clean:
	rm -rf _site .jupyter_cache chapters/.jupyter_cache .fit_cache .pytest_cache dist
