"""The inbox file's text: YAML front matter (sender, recipients, priority, id, time, type) between
``---`` lines, then the message text exactly as given (UTF-8, no newline translation), and how a
delivery's receipt names the file written (``split_written``).

The front matter is the text PyYAML's ``safe_dump`` writes for that mapping; the usual header
(names, words and hex ids a YAML reader takes as strings) is put together directly, the same text
without the dumper's cost.
"""
from __future__ import annotations

import functools
import re
from datetime import UTC, datetime
from typing import Any

import yaml

from quarterdeck.core.delivery.contract import DeliveryRequest

__all__ = ["WRITTEN", "message_type", "parse_message", "render", "split_written"]

_FENCE = b"---\n"
# libyaml's emitter where PyYAML has it (a quarter of a relay's time per inbox delivery went to the
# pure-Python one); the same text either way
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_RESOLVER = yaml.resolver.Resolver()
_STR = "tag:yaml.org,2002:str"
_PLAIN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*")  # written bare by the dumper when read back as a string
_TIME = re.compile(r"\d{4}-\d\d-\d\dT[\d:.]+\+00:00")  # a UTC isoformat(): the dumper single-quotes it
WRITTEN = "written to "
# a name ``_file_name`` gives (and ``_publish``'s suffix when it was taken): a time, a word, an id
_OUR_NAME = re.compile(r"/(\d{8}T\d{6}\.\d{6}Z-[a-z]+-[A-Za-z0-9._-]{1,90}\.md)")


def message_type(request: DeliveryRequest) -> str:
    """``onboarding``, ``broadcast`` (more than one recipient) or ``message``."""
    if request.onboarding:
        return "onboarding"
    return "broadcast" if len(request.recipients) > 1 else "message"


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def render(request: DeliveryRequest, now: datetime) -> bytes:
    """The file's bytes: front matter, then ``request.text`` unchanged."""
    header = {
        "sender": request.sender,
        "recipients": list(request.recipients),
        "priority": request.priority,
        "message_id": request.message_id,
        "time": _utc(request.created_at or now).isoformat(),
        "type": message_type(request),
    }
    front = _front(header)
    if front is None:
        front = yaml.dump(header, Dumper=_DUMPER, sort_keys=False, allow_unicode=True, default_flow_style=False)
    return _FENCE + front.encode("utf-8") + _FENCE + request.text.encode("utf-8")


def _front(header: dict[str, Any]) -> str | None:
    """The dumper's text for the usual header, put together directly; None when a value is not one
    whose text is certain here (the dumper writes that header)."""
    sender, priority, message_id, kind = (_bare(header[k]) for k in ("sender", "priority", "message_id", "type"))
    recipients = [_bare(r) for r in header["recipients"]]
    time_text = header["time"]
    if None in (sender, priority, message_id, kind) or None in recipients or not recipients \
            or not _TIME.fullmatch(time_text):
        return None
    listed = "".join(f"- {r}\n" for r in recipients)
    return (f"sender: {sender}\nrecipients:\n{listed}priority: {priority}\nmessage_id: {message_id}\n"
            f"time: '{time_text}'\ntype: {kind}\n")


@functools.lru_cache(maxsize=512)  # names and words repeat in every header
def _bare(value: object) -> str | None:
    """``value`` as the dumper writes it bare (a plain scalar read back as the same string), else None."""
    if not isinstance(value, str) or not _PLAIN.fullmatch(value):
        return None
    tag = _RESOLVER.resolve(yaml.ScalarNode, value, (True, False))  # type: ignore[no-untyped-call]
    return value if tag == _STR else None


def split_written(text: str) -> tuple[str, str] | None:
    """``written to <folder>/<name>`` (a receipt's detail) as (``written to <folder>/``, name) when the
    name is one this transport gives; else None."""
    if not text.startswith(WRITTEN):
        return None
    found = _OUR_NAME.search(text)
    if found is None or found.end() != len(text):
        return None
    return text[: found.start(1)], found.group(1)


def parse_message(data: bytes) -> tuple[dict[str, Any], str]:
    """Split an inbox file's bytes into (header, text); the inverse of what ``deliver`` writes."""
    if not data.startswith(_FENCE):
        raise ValueError("not an inbox message: no front matter")
    end = data.find(b"\n" + _FENCE, len(_FENCE) - 1)
    if end < 0:
        raise ValueError("not an inbox message: front matter is not closed")
    header = yaml.safe_load(data[len(_FENCE) : end + 1].decode("utf-8")) or {}
    return header, data[end + 1 + len(_FENCE) :].decode("utf-8")
