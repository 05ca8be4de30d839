"""The test bench's samples: defaults, the rule-bench.yaml file, and scores under a rule set."""
from __future__ import annotations

from quarterdeck.core.paths import user_config_dir
from quarterdeck.core.validation import Validator, bundled_rules_dir, load_rule_files
from quarterdeck.core.validation.bench import (
    DEFAULT_SAMPLES,
    BenchSample,
    default_bench_path,
    dump_bench,
    load_bench,
    run_bench,
    save_bench,
)


def test_the_defaults_show_one_clean_message_and_three_mistakes():
    ruleset, _ = load_rule_files([bundled_rules_dir()])
    results = {r.sample.name: r.report for r in run_bench(Validator(ruleset), DEFAULT_SAMPLES)}
    assert results["Clean status update"].status == "PASS"
    assert [v.rule_id for v in results["Leaked AWS key"].violations] == ["no-credentials"]
    assert results["Over-long brief"].hits() == {"content-long": 1}
    assert [v.rule_id for v in results["Broadcast to one agent"].violations] == ["broadcast-not-single-recipient"]


def test_a_missing_file_gives_the_defaults():
    loaded = load_bench(default_bench_path())
    assert default_bench_path() == user_config_dir() / "rule-bench.yaml"
    assert loaded.samples == DEFAULT_SAMPLES and not loaded.from_file and loaded.problem == ""


def test_samples_round_trip_through_the_file(tmp_path):
    path = tmp_path / "cfg" / "rule-bench.yaml"
    odd = BenchSample("Odd tag ✨", "Wrap up, please.\nThanks!", recipients=("Agent-1", "Agent-2"),
                      tags=("Wrap Up",), priority="urgent")
    save_bench(path, [odd, DEFAULT_SAMPLES[0]])
    loaded = load_bench(path)
    assert loaded.from_file and loaded.samples == (odd, DEFAULT_SAMPLES[0])
    assert dump_bench([odd]).startswith("# Sample messages")


def test_a_broken_file_falls_back_to_the_defaults_and_says_why(tmp_path):
    path = tmp_path / "rule-bench.yaml"
    path.write_text("samples: [\n", encoding="utf-8")
    loaded = load_bench(path)
    assert loaded.samples == DEFAULT_SAMPLES and "could not be read" in loaded.problem
    path.write_text("just text\n", encoding="utf-8")
    assert "no 'samples:' list" in load_bench(path).problem


def test_entries_without_content_are_skipped_and_scalars_become_lists(tmp_path):
    path = tmp_path / "rule-bench.yaml"
    path.write_text("samples:\n  - {name: no content}\n  - {content: hi, recipients: Agent-1, tags: null}\n  - 7\n",
                    encoding="utf-8")
    (sample,) = load_bench(path).samples
    assert sample == BenchSample("Sample", "hi", recipients=("Agent-1",))
    assert sample.with_changes(tags=["a"]).tags == ("a",)
