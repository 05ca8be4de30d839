"""Lays out the installed package's shape, ``quarterdeck/{core,gui,cli}``, as a tree of links.

The repository keeps ``core/``, ``gui/`` and ``cli/`` at the top and setup.py maps them onto
``quarterdeck.*``; at run time the editable install's import hook does the mapping. Static tools
(mypy, import-linter's graph) read folders, not import hooks, so they are pointed at this tree
instead: real folders, each source file a symlink to the repository's own file, so every error
names a file that is edited in place. Rebuilt from scratch on each call (a few milliseconds).

    python scripts/pkgtree.py [DEST]    # default build/pkgtree; prints DEST
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PARTS = {"quarterdeck": ROOT / "quarterdeck", "quarterdeck/core": ROOT / "core",
         "quarterdeck/gui": ROOT / "gui", "quarterdeck/cli": ROOT / "cli"}


def build(dest: Path) -> Path:
    if dest.exists():
        shutil.rmtree(dest)
    for name, source in PARTS.items():
        for path in source.rglob("*"):
            if "__pycache__" in path.parts or path.is_dir() or path.suffix not in (".py", ".typed"):
                continue
            rel = path.relative_to(source)
            if name == "quarterdeck" and len(rel.parts) > 1:
                continue
            target = dest / name / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(path)
    return dest


if __name__ == "__main__":
    print(build(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "build" / "pkgtree"))
