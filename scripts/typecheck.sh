#!/usr/bin/env bash
# mypy over the installed package's shape (scripts/pkgtree.py); strict for quarterdeck.core.
# An error names quarterdeck/<part>/x.py: that is the repository's <part>/x.py.
set -euo pipefail
cd "$(dirname "$0")/.."
tree=$(.venv/bin/python scripts/pkgtree.py build/pkgtree)
cd "$tree"
../../.venv/bin/mypy --config-file ../../pyproject.toml --cache-dir ../mypy-cache -p quarterdeck "$@"
