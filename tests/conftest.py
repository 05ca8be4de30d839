"""Test-wide set-up: offscreen Qt by default, and no test ever touches the real home."""
from __future__ import annotations

import gc
import os
import re
import shutil

import pytest
from hypothesis import HealthCheck, settings

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# the properties check correctness, not speed (bench/ does that): a stall of a loaded host while
# an example is drawn or run must not fail them
settings.register_profile("suite", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("suite")


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory, monkeypatch):
    """Point config and data dirs at fresh folders and drop any COORDINATION_* settings."""
    base = tmp_path_factory.mktemp("user")
    monkeypatch.setenv("QUARTERDECK_CONFIG_DIR", str(base / "config"))
    monkeypatch.setenv("QUARTERDECK_DATA_DIR", str(base / "data"))
    # a waiting agent in any panel test must not put real notices on the shared test display
    # (the private bus would start dunst on demand); the notification tests turn them on
    monkeypatch.setenv("QUARTERDECK_NOTIFICATIONS", "off")
    for name in list(os.environ):
        if name.upper().startswith("COORDINATION_"):
            monkeypatch.delenv(name)
    return base


def pytest_sessionstart(session):
    """Collect cycles only between tests, on the main thread: the automatic collector runs in
    whichever thread allocates, and in a background job thread it can destroy Qt widgets and
    models from there, which crashes Qt (the panel collects on a GUI-thread timer likewise)."""
    gc.disable()


_tests_run = [0]


@pytest.fixture(autouse=True)
def _collect_on_the_main_thread():
    yield
    _tests_run[0] += 1
    # the young generations hold what this test made (cheap); everything, now and then
    gc.collect(1 if _tests_run[0] % 100 else 2)


def pytest_collection_modifyitems(config, items):
    """Tests marked x11 need a display: skipped locally without one, an error in CI."""
    if os.environ.get("DISPLAY"):
        return
    in_ci = os.environ.get("CI", "").lower() == "true"
    for item in items:
        if "x11" in item.keywords:
            if in_ci:
                item.add_marker(pytest.mark.usefixtures("_require_display"))
            else:
                item.add_marker(pytest.mark.skip(reason="needs DISPLAY: run through scripts/with-xvfb.sh"))


@pytest.fixture
def _require_display():
    pytest.fail("x11 test without DISPLAY in CI: the test command must run under scripts/with-xvfb.sh")


# skip reasons that mean "a tool the suite drives is not installed": fine on a laptop, a failure in CI,
# whose .ci/run installs every one of them (a skip there would hide a test that never ran)
MISSING_TOOL = re.compile(r"missing tools|tmux is not installed|needs tmux|no AT-SPI bus|no session bus")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.skipped and os.environ.get("CI", "").lower() == "true" and isinstance(report.longrepr, tuple):
        reason = str(report.longrepr[2])
        if MISSING_TOOL.search(reason):
            report.outcome = "failed"
            report.longrepr = f"{reason} (CI installs every tool the tests drive: .ci/run must install it)"
    return report


def have(tool: str) -> bool:
    return shutil.which(tool) is not None
