"""Start a bench on a display: itself again under scripts/with-xvfb.sh when DISPLAY is unset."""
from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def bench_main(script: str, doc: str, run: Callable[[int], int], rounds: int) -> None:
    """Parse ``--rounds``, make sure there is a display, put the project and the x11 test helpers
    on the path, and exit with ``run(rounds)``."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=rounds)
    args = parser.parse_args()
    if not os.environ.get("DISPLAY"):
        wrapper = ROOT / "scripts" / "with-xvfb.sh"
        os.execv(str(wrapper), [str(wrapper), sys.executable, str(Path(script).resolve()), *sys.argv[1:]])
    sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "tests" / "x11")]
    raise SystemExit(run(args.rounds))
