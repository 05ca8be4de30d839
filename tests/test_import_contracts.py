"""The module-cycle check (scripts/import_cycles.py) can fail: it finds cycles in a package built here."""
from __future__ import annotations

import importlib.util
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def import_cycles():
    spec = importlib.util.spec_from_file_location("import_cycles_script", ROOT / "scripts" / "import_cycles.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def make_package(tmp_path, monkeypatch):
    """``make_package(name, {"a": source, ...})`` writes a package of those modules and makes it importable."""
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)  # grimp keeps its cache in the working directory
    made: list[str] = []

    def make(name: str, modules: dict[str, str]) -> str:
        folder = tmp_path / name
        folder.mkdir()
        (folder / "__init__.py").write_text("", encoding="utf-8")
        for module, source in modules.items():
            (folder / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
        made.append(name)
        return name

    yield make
    for name in made:  # nothing imported them, but leave sys.modules as it was either way
        for module in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
            del sys.modules[module]


def test_two_modules_importing_each_other_are_a_cycle(import_cycles, make_package):
    package = make_package("qd_cyclic_pair", {
        "a": "from qd_cyclic_pair import b\n",
        "b": "import qd_cyclic_pair.a\n",
        "c": "from qd_cyclic_pair import a\n",  # depends on the cycle, is not part of it
    })
    assert import_cycles.cycles(package) == [["qd_cyclic_pair.a", "qd_cyclic_pair.b"]]


def test_a_loop_through_three_modules_and_a_lazy_import_count(import_cycles, make_package):
    package = make_package("qd_cyclic_loop", {
        "a": "import qd_cyclic_loop.b\n",
        "b": "import qd_cyclic_loop.c\n",
        "c": """
            def later():
                from qd_cyclic_loop import a  # inside a function: still a dependency
                return a
            """,
    })
    assert import_cycles.cycles(package) == [["qd_cyclic_loop.a", "qd_cyclic_loop.b", "qd_cyclic_loop.c"]]


def test_a_package_without_cycles_gives_none(import_cycles, make_package):
    package = make_package("qd_acyclic", {
        "a": "from qd_acyclic import b, c\n",
        "b": "from qd_acyclic import c\n",
        "c": "import json\n",
        "d": """
            from typing import TYPE_CHECKING

            if TYPE_CHECKING:  # for the type checker only: not a dependency
                from qd_acyclic import a
            """,
        "e": "import qd_acyclic.d\n",
    })
    assert import_cycles.cycles(package) == []


def test_a_type_checking_import_closing_a_loop_is_not_a_cycle(import_cycles, make_package):
    package = make_package("qd_typing_only", {
        "a": "from qd_typing_only import b\n",
        "b": """
            from typing import TYPE_CHECKING

            if TYPE_CHECKING:
                from qd_typing_only import a
            """,
    })
    assert import_cycles.cycles(package) == []


def test_the_main_report_fails_on_a_cycle(import_cycles, make_package, monkeypatch, capsys):
    package = make_package("qd_cyclic_main", {"a": "from qd_cyclic_main import b\n",
                                             "b": "from qd_cyclic_main import a\n"})
    real = import_cycles.cycles
    monkeypatch.setattr(import_cycles, "cycles", lambda: real(package))
    assert import_cycles.main() == 1
    out, err = capsys.readouterr()
    assert "import cycle: qd_cyclic_main.a -> qd_cyclic_main.b -> qd_cyclic_main.a" in err
    assert out.strip() == "import cycles: 1"
