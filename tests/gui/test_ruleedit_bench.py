"""The test bench: samples scored live under the edited rules, edited in the form and kept in
rule-bench.yaml through the background runner."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from quarterdeck.core.paths import user_config_dir
from quarterdeck.core.validation import Validator, bundled_rules_dir, load_rule_files
from quarterdeck.core.validation.bench import DEFAULT_SAMPLES, BenchSample, load_bench, save_bench
from quarterdeck.core.validation.editing import check_rule_texts
from quarterdeck.gui.ruleedit.bench import BenchWidget
from quarterdeck.gui.ruleedit.bench_model import BenchModel


@pytest.fixture
def validator() -> Validator:
    ruleset, _ = load_rule_files([bundled_rules_dir()])
    return Validator(ruleset)


@pytest.fixture
def bench(make_ctx, qtbot, validator):
    ctx = make_ctx(start=False)
    path = user_config_dir() / "rule-bench.yaml"
    widget = BenchWidget(ctx, path)
    qtbot.addWidget(widget)
    widget.resize(900, 400)
    qtbot.waitUntil(lambda: widget.model.rowCount() == 4)
    widget.set_validator(validator, "the saved rules")
    yield widget
    widget.flush()


def test_the_model_scores_samples_and_signals_only_changed_rows(qtmodeltester, validator):
    model = BenchModel()
    model.set_samples(list(DEFAULT_SAMPLES))
    assert model.data(model.index(0, 1)) == "—"  # no rules yet
    model.set_validator(validator)
    qtmodeltester.check(model)
    assert [model.data(model.index(r, 1)) for r in range(4)] == ["PASS", "FAIL", "WARN", "FAIL"]
    assert model.data(model.index(1, 3)) == "no-credentials" and model.data(model.index(0, 3)) == "none"
    assert model.data(model.index(0, 2)) == 100
    assert "no-credentials" in model.data(model.index(1, 0), Qt.ItemDataRole.ToolTipRole)
    lowered = check_rule_texts([(p.name, p.read_text(encoding="utf-8").replace("max: 8000", "max: 100"))
                                for p in sorted(bundled_rules_dir().glob("*.yaml"))])
    rows: list[int] = []
    model.dataChanged.connect(lambda top, bottom: rows.append(top.row()))
    model.set_validator(Validator(lowered.ruleset))
    assert sorted(rows) == [0, 2]  # only the samples longer than 100 characters changed
    assert model.data(model.index(0, 1)) == "FAIL"
    rows.clear()
    model.set_validator(Validator(lowered.ruleset))
    assert rows == []
    qtmodeltester.check(model)


def test_the_defaults_are_shown_when_no_file_exists(bench):
    assert bench.model.samples() == list(DEFAULT_SAMPLES)
    assert bench.current_row() == 0
    assert bench.name_edit.text() == "Clean status update"
    assert bench.findings.item(0).text() == "PASS · score 100/100"
    assert bench.heading.text() == "Test bench: samples scored under the saved rules"
    bench.select(1)
    assert bench.findings.item(0).text() == "FAIL · score 75/100"
    assert bench.findings.item(1).text().startswith("error  no-credentials:")


def test_editing_a_sample_rescores_it_and_saves_the_file(bench, qtbot):
    bench.select(0)
    bench.content_edit.setPlainText("Deploy with aws_access_key_id = AKIA" + "Q4XW7ZP2LMN3RT5Y")
    assert bench.model.report(0).status == "FAIL"
    qtbot.keyClicks(bench.tags_edit, "wrapup, Not A Tag")
    assert bench.model.sample(0).tags == ("wrapup", "Not", "A", "Tag")
    bench.type_combo.setCurrentText("broadcast")
    assert bench.model.sample(0).type == "broadcast"
    qtbot.waitUntil(lambda: bench.path.exists() and load_bench(bench.path).samples[0].type == "broadcast")
    saved = load_bench(bench.path).samples[0]
    assert saved.content.endswith("RT5Y") and saved.tags == ("wrapup", "Not", "A", "Tag")


def test_adding_removing_and_restoring_samples(bench, qtbot):
    bench.add_button.click()
    assert bench.model.rowCount() == 5 and bench.current_row() == 4
    assert bench.name_edit.selectedText() == "Sample 5"
    assert bench.model.report(4).status == "FAIL"  # empty content
    bench.remove_button.click()
    assert bench.model.rowCount() == 4 and bench.current_row() == 3
    for _ in range(4):
        bench.remove_button.click()
    assert bench.model.rowCount() == 0 and not bench.form_box.isEnabled()
    bench.remove_button.click()  # nothing selected: nothing happens
    bench.defaults_button.click()
    assert bench.model.samples() == list(DEFAULT_SAMPLES)
    qtbot.waitUntil(lambda: bench.path.exists())
    assert load_bench(bench.path).samples == DEFAULT_SAMPLES


def test_samples_are_read_from_the_file(make_ctx, qtbot):
    path = user_config_dir() / "rule-bench.yaml"
    mine = BenchSample("Mine", "Hello there", recipients=("Agent-9",))
    save_bench(path, [mine])
    widget = BenchWidget(make_ctx(start=False), path)
    qtbot.addWidget(widget)
    qtbot.waitUntil(lambda: widget.model.rowCount() == 1)
    assert widget.model.sample(0) == mine and widget.recipients_edit.text() == "Agent-9"


def test_a_broken_file_is_reported_and_the_defaults_shown(make_ctx, qtbot):
    path = user_config_dir() / "rule-bench.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("samples: [\n", encoding="utf-8")
    ctx = make_ctx(start=False)
    with qtbot.waitSignal(ctx.sig_status) as status:
        widget = BenchWidget(ctx, path)
        qtbot.addWidget(widget)
    assert "could not be read" in status.args[0]
    assert widget.model.samples() == list(DEFAULT_SAMPLES)


def test_a_save_that_fails_is_reported(make_ctx, qtbot, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x", encoding="utf-8")
    ctx = make_ctx(start=False)
    widget = BenchWidget(ctx, blocker / "rule-bench.yaml")
    qtbot.addWidget(widget)
    qtbot.waitUntil(lambda: widget.model.rowCount() == 4)
    with qtbot.waitSignal(ctx.sig_status) as status:
        widget.defaults_button.click()
        widget.flush()
    assert "could not save" in status.args[0]
