"""The X11 library Quarterdeck imports is the maintained python-xlib, not PyAutoGUI's old fork.

Both distributions install the same ``Xlib`` package; the fork (python3-xlib 0.15) returns text
properties as ``str`` where python-xlib 0.33 returns ``bytes``. The code handles both, but the
declared dependency must be the one that is loaded (scripts/bootstrap.sh sees to it).
"""
from __future__ import annotations

import sys
from importlib.metadata import version

import pytest
from packaging.version import Version

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="python-xlib is a Linux dependency")


def test_the_loaded_xlib_is_python_xlib_at_least_0_33():
    import Xlib

    assert Xlib.__version__ >= (0, 33), f"Xlib {Xlib.__version__} is loaded: run scripts/bootstrap.sh"
    assert Version(version("python-xlib")) >= Version("0.33")
