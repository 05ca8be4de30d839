# Quarterdeck: the two commands of the quick start are `make run` and `make test`.
.PHONY: run test bootstrap bench lint clean
PY := .venv/bin/python

bootstrap:
	@bash scripts/bootstrap.sh

run: bootstrap
	.venv/bin/quarterdeck $(ARGS)

test: bootstrap
	@# the real agent CLIs tests/core/test_tmux_real_agents.py delivers to (those tests skip without them)
	@scripts/install-agent-clis.sh || echo "make test: installing the agent CLIs failed; their tmux tests will skip" >&2
	.venv/bin/ruff check --quiet .
	scripts/check-imports.sh
	scripts/typecheck.sh
	scripts/with-xvfb.sh $(PY) -m pytest -p no:cacheprovider --cov --cov-report=term $(PYTEST_ARGS)

bench: bootstrap
	@for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf .venv build dist .coverage htmlcov *.egg-info

# -- packaging: the one-folder app (PyInstaller, installed on demand) and a pipx install check --
.PHONY: app pipx-check
PYINSTALLER := pyinstaller>=6.10,<7

app: bootstrap
	@$(PY) -c "import PyInstaller" 2>/dev/null || $(PY) -m pip install -q "$(PYINSTALLER)"
	@start=$$(date +%s); \
	$(PY) -m PyInstaller packaging/quarterdeck.spec --noconfirm --clean --log-level WARN \
		--distpath dist --workpath build/pyinstaller || exit 1; \
	echo "app: dist/quarterdeck built in $$(( $$(date +%s) - start )) s, $$(du -sh dist/quarterdeck | cut -f1)"
	scripts/with-xvfb.sh $(PY) packaging/smoke_app.py dist/quarterdeck

pipx-check: bootstrap
	$(PY) -m pytest -p no:cacheprovider -q -m slow -k pipx tests/test_packaging_app.py
