#!/usr/bin/env bash
# The import contracts (pyproject.toml [tool.importlinter]) and no import cycle between modules,
# checked over the installed package's shape (scripts/pkgtree.py).
set -euo pipefail
cd "$(dirname "$0")/.."
tree=$(.venv/bin/python scripts/pkgtree.py build/pkgtree)
cd "$tree"
# the contracts' verdicts, without the banner (a broken contract prints its chains too)
PYTHONPATH=. ../../.venv/bin/lint-imports ../../pyproject.toml --no-cache | sed -n '/^Contracts$/,$p' \
    || { echo "import contracts broken" >&2; exit 1; }
PYTHONPATH=. ../../.venv/bin/python ../../scripts/import_cycles.py
