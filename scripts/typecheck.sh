#!/usr/bin/env bash
# mypy over the installed package's shape (scripts/pkgtree.py); strict for quarterdeck.core.
# An error names quarterdeck/<part>/x.py: that is the repository's <part>/x.py.
# PKGTREE=DIR puts the tree (and mypy's cache beside it) elsewhere, for runs side by side.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
tree=$(.venv/bin/python scripts/pkgtree.py "${PKGTREE:-build/pkgtree}")
cd "$tree"
"$root/.venv/bin/mypy" --config-file "$root/pyproject.toml" --cache-dir "$tree.mypy-cache" -p quarterdeck "$@"
