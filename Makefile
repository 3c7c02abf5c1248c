# UGRN explorer — two entry points for a fresh machine:
#   make run    set up the environment and open the explorer app on the bundled checkpoint
#   make test   set up the environment (and headless Chromium) and run the test suite
VENV   ?= .venv
PY     := $(VENV)/bin/python
PYTEST_ARGS ?= -m "not slow"

.PHONY: setup browser run test test-all readme benchmark benchmark-all translator context-statistics featurize-benchmark clean-cache wheel check-install

setup: $(VENV)/.installed

# torch is pinned to the local CPU build first (any other spec pulls GBs of CUDA); scgpt goes in without its
# dependencies (its tokenizer needs the dead torchtext; only its model code is used). requirements.txt lists what
# pyproject.toml declares (core + app + tests extras) with this path's pins; the project goes in editable, last.
# Users who bring their own (CUDA) torch install the package instead: see README, "On your own machine".
$(VENV)/.installed: requirements.txt pyproject.toml setup.py
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip "setuptools>=68"  # builds this package without isolation (wheel, -e)
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q --no-deps scgpt==0.2.4
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	touch $@

browser:
	bash scripts/install_browser.sh

run: setup
	$(PY) -m ugrn_app.serve --server.headless true --browser.gatherUsageStats false  # streamlit run app.py, defaults preloaded

test: setup browser
	$(PY) -m pytest $(PYTEST_ARGS)

test-all: setup browser
	$(PY) -m pytest

# The default benchmark: the paper's Table 1 (train STRING/hESC/500, test the 19 TFs+500 datasets of other cell
# types), 5 seeds, uniform and tf-positive negatives, controls and peers; bundled as assets/benchmark_default.
benchmark: setup
	$(VENV)/bin/ugrn benchmark --preset table1 --peers "|Pearson|,GRNBoost2,RegDiffusion" --out results/bench
	rm -rf assets/benchmark_default && mkdir -p assets/benchmark_default
	cd results/bench/table1 && cp -r results.csv results.md rows.csv meta.json scores.npz tables figures ../../../assets/benchmark_default/
	$(PY) -m ugrn_core.bench.readme_figures

# All six tables of the paper (see docs/benchmark.md) and one report (results/bench/report.md, report.html); bundled
# as assets/benchmark_default (Table 1, with its rows) and assets/benchmark_tables/<preset> (Tables 2–6; rows gzipped
# with metrics to 4 decimals) with report.md.
# Two processes share the work (one walks the cells backwards; cells are locked while computed and shared by the
# tables), one torch thread each: on 2 cores about half the time of one process.
BENCH_OUT ?= results/bench
BENCH_ARGS ?= --peers "|Pearson|,GRNBoost2,RegDiffusion"
benchmark-all: setup
	mkdir -p $(BENCH_OUT)
	OMP_NUM_THREADS=1 $(VENV)/bin/ugrn benchmark --preset all $(BENCH_ARGS) --out $(BENCH_OUT) --cell-order reverse \
		> $(BENCH_OUT)/reverse.log 2>&1 & \
	OMP_NUM_THREADS=1 $(VENV)/bin/ugrn benchmark --preset all $(BENCH_ARGS) --out $(BENCH_OUT); status=$$?; \
	wait $$! && test $$status -eq 0
	$(VENV)/bin/ugrn report --results $(BENCH_OUT)
	rm -rf assets/benchmark_default assets/benchmark_tables && mkdir -p assets/benchmark_default
	cp -r $(BENCH_OUT)/table1/results.csv $(BENCH_OUT)/table1/results.md $(BENCH_OUT)/table1/rows.csv \
		$(BENCH_OUT)/table1/meta.json $(BENCH_OUT)/table1/scores.npz $(BENCH_OUT)/table1/tables $(BENCH_OUT)/table1/figures assets/benchmark_default/
	for t in table2 table3 table4 table5 table6; do mkdir -p assets/benchmark_tables/$$t && \
		for f in results.csv results.md meta.json tables figures; do cp -r $(BENCH_OUT)/$$t/$$f assets/benchmark_tables/$$t/; \
		done; $(PY) -c "import sys; from ugrn_core.bench.report import compact_rows; compact_rows(*sys.argv[1:])" \
		$(BENCH_OUT)/$$t/rows.csv assets/benchmark_tables/$$t/rows.csv.gz; done
	cp $(BENCH_OUT)/report.md assets/benchmark_tables/report.md
	$(PY) -m ugrn_core.bench.readme_figures

# The README's result tables and figure-carrying sentences (and the model card's "Can / Cannot" bullets), rewritten
# between their <!-- generated: NAME --> markers from the bundled results; `python -m ugrn_core.bench.readme_figures --check`
# (and tests/test_readme_figures.py) say when they are stale. Run after `make benchmark-all`.
readme: setup
	$(PY) -m ugrn_core.bench.readme_figures

translator: setup
	$(VENV)/bin/ugrn train --dataset STRING/hESC/500 --methods VVP,GDT,Emb --out assets/translators/STRING_hESC_500

# Exact context-z statistics of the bundled model on every TFs+500 set (the Gene pair page's exact first pair);
# rerun after changing the bundled checkpoint, the probe version or the translator's virtual values.
context-statistics: setup
	$(PY) scripts/context_stats.py

featurize-benchmark: setup
	$(PY) benchmarks/featurize.py

clean-cache:
	rm -rf .cache/ugrn

# A wheel with the bundled assets inside (ugrn_core/assets), for `pip install "dist/ugrn_explorer-*.whl[app]"`.
wheel: setup
	rm -rf build
	$(PY) -m pip wheel -q --no-deps --no-build-isolation . -w dist

# The README's "On your own machine" steps from scratch in a fresh venv (downloads torch; several minutes).
check-install:
	bash scripts/check_install.sh
