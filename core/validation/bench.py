"""The rule editor's test bench: sample messages kept in ``rule-bench.yaml``, and their scores.

Samples are plain field mappings (not ``Message`` models) so a sample may carry a value the
model would refuse, such as a malformed tag, to see which rule catches it. The file lives in
the user config folder; a missing or unreadable file gives the default samples, which show one
clean message and three common mistakes.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from quarterdeck.core.fileops import write_atomically
from quarterdeck.core.paths import user_config_dir

from .engine import Validator
from .report import Report

BENCH_FILE_NAME = "rule-bench.yaml"
_FIELDS = ("name", "sender", "recipients", "type", "priority", "tags", "content")


@dataclass(frozen=True, slots=True)
class BenchSample:
    """One sample message; ``name`` is only a label for the bench."""

    name: str
    content: str
    sender: str = "Captain"
    recipients: tuple[str, ...] = ()
    type: str = "text"
    priority: str = "normal"
    tags: tuple[str, ...] = ()

    def rule_fields(self) -> dict[str, Any]:
        """The fields the validator reads (see ``quarterdeck.core.validation.engine``)."""
        return {"content": self.content, "sender": self.sender, "recipients": list(self.recipients),
                "type": self.type, "priority": self.priority, "tags": list(self.tags)}

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["recipients"], data["tags"] = list(self.recipients), list(self.tags)
        return data

    def with_changes(self, **changes: Any) -> BenchSample:
        for name in ("recipients", "tags"):
            if name in changes:
                changes[name] = tuple(changes[name])
        return replace(self, **changes)


def _long_brief() -> str:
    paragraph = ("Step {n}: rebuild the index for shard {n}, compare row counts with yesterday's "
                 "snapshot, and post the differences in the channel before moving on. ")
    return "Migration plan for tonight.\n\n" + "\n".join(paragraph.format(n=n) for n in range(1, 31))


DEFAULT_SAMPLES: tuple[BenchSample, ...] = (
    BenchSample("Clean status update",
                "Status: the parser refactor is merged. Please rebase your branch on main and "
                "rerun the test suite before picking up the next task.",
                recipients=("Agent-1",)),
    BenchSample("Leaked AWS key",
                "Use these credentials for the deploy: aws_access_key_id = " + "AKIA" + "Q4XW7ZP2LMN3RT5Y",
                recipients=("Agent-2",)),
    BenchSample("Over-long brief", _long_brief(), recipients=("Agent-1", "Agent-2")),
    BenchSample("Broadcast to one agent", "Everyone: stop merging until the build is green again.",
                recipients=("Agent-3",), type="broadcast"),
)


def default_bench_path(env: Mapping[str, str] | None = None) -> Path:
    return user_config_dir(env) / BENCH_FILE_NAME


def _sample_from(raw: Any) -> BenchSample | None:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("content"), str):
        return None
    data: dict[str, Any] = {}
    for name in _FIELDS:
        value = raw.get(name)
        if value is None:
            continue
        if name in ("recipients", "tags"):
            items = value if isinstance(value, list) else [value]
            data[name] = tuple(str(item) for item in items)
        else:
            data[name] = str(value)
    data.setdefault("name", "Sample")
    return BenchSample(**data)


@dataclass(frozen=True, slots=True)
class LoadedBench:
    """The samples and where they came from (``problem`` says why the defaults were used)."""

    samples: tuple[BenchSample, ...]
    from_file: bool
    problem: str = ""


def load_bench(path: Path) -> LoadedBench:
    """Read the samples from ``path``; the defaults when it is missing or unreadable. Blocking."""
    if not path.exists():
        return LoadedBench(DEFAULT_SAMPLES, from_file=False)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        return LoadedBench(DEFAULT_SAMPLES, False, f"{path.name} could not be read ({error}); using the defaults")
    items = raw.get("samples") if isinstance(raw, Mapping) else None
    if not isinstance(items, list):
        return LoadedBench(DEFAULT_SAMPLES, False, f"{path.name} has no 'samples:' list; using the defaults")
    samples = tuple(s for s in map(_sample_from, items) if s is not None)
    return LoadedBench(samples, from_file=True)


def dump_bench(samples: Sequence[BenchSample]) -> str:
    header = "# Sample messages for the rule editor's test bench (edited in Quarterdeck).\n"
    body = yaml.safe_dump({"version": 1, "samples": [s.to_dict() for s in samples]},
                          sort_keys=False, allow_unicode=True, width=100)
    return header + body


def save_bench(path: Path, samples: Sequence[BenchSample]) -> Path:
    """Replace ``path`` atomically with the samples. Blocking."""
    write_atomically(path, dump_bench(samples), backup=False)
    return path


@dataclass(frozen=True, slots=True)
class BenchResult:
    sample: BenchSample
    report: Report = field(default_factory=Report)


def run_bench(validator: Validator, samples: Sequence[BenchSample]) -> list[BenchResult]:
    """Each sample's report under ``validator`` (in-memory; about 0.1 ms a sample)."""
    return [BenchResult(s, validator.validate(s)) for s in samples]
