"""Rule engine benchmarks: validating a message and checking a large rule file.

Usage: python bench/bench_validation.py [--rounds N]

Prints figures only; nothing here asserts. Targets:
- validating a 4 KB captain message against the bundled rules: median <= 200 us;
- checking a generated 500-line rule file with check_rule_text: median <= 50 ms.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from quarterdeck.core.validation import Validator, bundled_rules_dir, check_rule_text, load_rule_files

TARGET_VALIDATE_US = 200.0
TARGET_CHECK_MS = 50.0

PARAGRAPHS = (
    "Agent-{n}, next task: the delivery queue drops messages when an agent pane is busy.\n",
    "1. Reproduce with `pytest tests/core/test_queue.py -k busy -q` on branch fix/queue-{n}.\n",
    "2. Read core/delivery/queue.py around line {line}; the retry budget resets too early.\n",
    "3. Keep the public API; add a test that fails before your fix (commit 4f2a9c1e{n:02d}).\n",
    "Notes: the tmux transport uses send-keys -l, so quote nothing; see docs/transport.md.\n",
    "When done, reply with the diff summary, test counts and anything you left alone.\n\n",
)


def captain_message(size: int = 4096) -> str:
    """A realistic, varied captain brief of exactly ``size`` characters."""
    parts: list[str] = []
    n = 0
    while sum(map(len, parts)) < size:
        n += 1
        parts.extend(p.format(n=n, line=40 + 7 * n) for p in PARAGRAPHS)
    return "".join(parts)[:size]


def rule_file(lines: int = 500) -> str:
    """A valid rule file of about ``lines`` lines using every kind of rule."""
    templates = (
        "  r{i}-pattern:\n    description: Pattern rule {i}.\n    severity: warning\n    given: content\n"
        "    then:\n      function: pattern\n      functionOptions: {{notMatch: '(?i)\\bforbidden{i}\\b'}}\n",
        "  r{i}-length:\n    description: Length rule {i}.\n    severity: info\n    given: content\n"
        "    when: {{type: [text, broadcast]}}\n    then:\n      function: length\n"
        "      functionOptions: {{max: {i}000, unit: characters}}\n",
        "  r{i}-words:\n    description: Words rule {i}.\n    given: content\n    then:\n"
        "      function: forbidden_words\n      functionOptions:\n        words: [alpha{i}, beta{i}, gamma {i}]\n",
        "  r{i}-enum:\n    description: Enumeration rule {i}.\n    severity: error\n    given: tags\n"
        "    then:\n      function: enumeration\n      functionOptions: {{values: [captain, t{i}]}}\n",
    )
    out = ["version: 1", "rules:"]
    i = 0
    while len(out) < lines:
        out.extend(templates[i % len(templates)].format(i=i).splitlines())
        i += 1
    return "\n".join(out) + "\n"


def timings(action, rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return samples


def summary(samples: list[float], scale: float) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * scale, ordered[int(0.95 * (len(ordered) - 1))] * scale


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3000)
    args = parser.parse_args()

    ruleset, diagnostics = load_rule_files([bundled_rules_dir()])
    if ruleset is None:
        raise SystemExit("\n".join(map(str, diagnostics)))
    validator = Validator(ruleset)
    fields = {"content": captain_message(), "sender": "Captain", "recipients": ["Agent-1", "Agent-2"],
              "type": "text", "priority": "normal", "tags": ["captain"]}
    report = validator.validate(fields)
    timings(lambda: validator.validate(fields), 200)
    median, p95 = summary(timings(lambda: validator.validate(fields), args.rounds), 1e6)
    mark = "ok" if median <= TARGET_VALIDATE_US else "OVER TARGET"
    print(f"validate 4096-char message, {len(ruleset)} rules ({report.status}, {len(report.violations)} violations):")
    print(f"  median {median:7.1f} us   p95 {p95:7.1f} us   target median <= {TARGET_VALIDATE_US:.0f} us  [{mark}]")

    text = rule_file()
    rules, problems = check_rule_text(text, "generated.yaml")
    if problems:
        raise SystemExit("\n".join(map(str, problems)))
    check_rounds = max(10, args.rounds // 100)
    median, p95 = summary(timings(lambda: check_rule_text(text, "generated.yaml"), check_rounds), 1e3)
    mark = "ok" if median <= TARGET_CHECK_MS else "OVER TARGET"
    print(f"check_rule_text, {text.count(chr(10))}-line file, {len(rules)} rules:")
    print(f"  median {median:7.2f} ms   p95 {p95:7.2f} ms   target median <= {TARGET_CHECK_MS:.0f} ms  [{mark}]")


if __name__ == "__main__":
    main()
