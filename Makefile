# Two commands on a fresh machine: `make demo` and `make test`. Only python3 is assumed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO   ?= demo-output
JOBS   ?= 2
# Plans that pay beside the sellers' plan rather than replace it: not report scenarios.
COMPANION_PLANS := scenarios/se_overlay.yaml

.PHONY: setup test demo demo-northwind bench lab lint clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest -n $(JOBS) -q

demo: $(STAMP)
	$(BIN)/spmkit sample --out $(DEMO)/data
	$(BIN)/spmkit sample --solution-engineers --role-change --out $(DEMO)/data-se
	$(BIN)/spmkit calc --plan scenarios/baseline.yaml --plan scenarios/se_overlay.yaml \
	  --deals $(DEMO)/data-se/deals.csv \
	  --quotas $(DEMO)/data-se/quotas.csv --roster $(DEMO)/data-se/roster.csv \
	  --splits $(DEMO)/data-se/splits.csv --fx $(DEMO)/data-se/fx.csv --out $(DEMO)/calc
	$(BIN)/spmkit capacity --roster $(DEMO)/data/roster.csv --history $(DEMO)/data/deals.csv \
	  --year 2026 --target 110000000 --out $(DEMO)/capacity
	$(BIN)/spmkit sample-accounts --roster $(DEMO)/data/roster.csv --out $(DEMO)/accounts.csv
	$(BIN)/spmkit territory --accounts $(DEMO)/accounts.csv --roster $(DEMO)/data/roster.csv \
	  --keep-regions --out $(DEMO)/territory
	$(BIN)/spmkit outlook --plan scenarios/baseline.yaml --data $(DEMO)/data --as-of 2025-06-30 \
	  --plan-b scenarios/accelerators.yaml --out $(DEMO)/outlook
	$(BIN)/spmkit report --data $(DEMO)/data --baseline scenarios/baseline.yaml \
	  --scenarios $(filter-out scenarios/baseline.yaml $(COMPANION_PLANS),$(wildcard scenarios/*.yaml)) \
	  --out $(DEMO)/report --audience executive

demo-northwind: $(STAMP)
	$(BIN)/spmkit import-northwind --source examples/northwind/data --out $(DEMO)/northwind
	$(BIN)/spmkit report --data $(DEMO)/northwind --baseline examples/northwind/baseline.yaml \
	  --scenarios examples/northwind/accelerator.yaml --out $(DEMO)/northwind-report

bench: $(STAMP)
	$(BIN)/python bench/report_bench.py
	$(BIN)/python bench/explore_bench.py
	$(BIN)/python bench/run.py
	$(BIN)/python bench/territory_bench.py
	$(BIN)/python bench/outlook_bench.py
	$(BIN)/python bench/mc_bench.py

lab: $(STAMP)  # make lab ARGS="--port 8890 --no-browser"; as root it adds --allow-root
	$(BIN)/jupyter lab notebooks/ $(if $(filter 0,$(shell id -u)),--allow-root) $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check spmkit tests bench

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache
