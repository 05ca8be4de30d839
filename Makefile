# Quarterdeck: the two commands of the quick start are `make run` and `make test`.
.PHONY: run test bootstrap bench lint clean
PY := .venv/bin/python

bootstrap:
	@bash scripts/bootstrap.sh

run: bootstrap
	.venv/bin/quarterdeck $(ARGS)

test: bootstrap
	.venv/bin/lint-imports
	scripts/with-xvfb.sh $(PY) -m pytest -p no:cacheprovider --cov --cov-report=term $(PYTEST_ARGS)

bench: bootstrap
	@for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf .venv build dist .coverage htmlcov
