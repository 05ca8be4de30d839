"""From what the captain typed to the messages that will be queued, and what is wrong with them.

A ``Draft`` is the composer's form: text, recipients, type, priority, tags, and whether the text
is a template whose placeholders are filled per agent. ``compose`` turns it into the ``Message``s
to submit: one for everyone, or, when the template uses ``{agent_id}``/``{role}``/``{contract}``,
one per recipient with its own text. ``check`` runs the rules on exactly those messages and maps
every content span back onto the text the captain is editing, so what is checked is what is sent.

``as_sent`` is the send mode: with nobody ticked only Broadcast can send the draft, so the draft
is checked as that broadcast (to everyone), never as a direct message to nobody.

Problems are the rule violations plus the composer's own (a template that cannot be rendered, a
broadcast that would need per-agent text); an ``error`` problem blocks sending.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from msgspec import Struct, field
from msgspec.structs import replace

from quarterdeck.core.compose.submit import resolve_recipients
from quarterdeck.core.compose.templates import (
    Rendered,
    Slot,
    TemplateError,
    agent_values,
    parse,
    placeholders,
    render_mapped,
)
from quarterdeck.core.delivery.prefix import format_for_delivery
from quarterdeck.core.model_check import checked
from quarterdeck.core.models import Message, new_id

if TYPE_CHECKING:
    from quarterdeck.core.roster.roster import Roster
    from quarterdeck.core.validation.engine import MessageValidator

SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}
WEIGHTS = {"error": 25, "warning": 10, "info": 2}  # as the rule engine scores
STATUS_ORDER = {"FAIL": 0, "WARN": 1, "PASS": 2}


class Draft(Struct, frozen=True):
    content: str
    recipients: tuple[str, ...] = ()
    type: str = "text"
    priority: str = "normal"
    tags: tuple[str, ...] = ()
    sender: str = "Captain"
    fill_placeholders: bool = False
    everyone: bool = False  # a broadcast to every enabled agent (recipients left to the roster)
    captain_last: bool = False  # agents whose role is captain get it after everyone else
    when_idle: str | None = None  # wait until each agent is idle, for at most this long ("30m"); None: at once
    contract: str | None = None


class Problem(Struct, frozen=True):
    """One thing wrong with the draft, as the composer lists and underlines it."""

    rule_id: str
    severity: str
    message: str
    span: tuple[int, int] | None = None  # code points in the draft's text
    agents: tuple[str, ...] = ()  # only these recipients' texts have it (empty: all, or n/a)

    @property
    def blocks(self) -> bool:
        return self.severity == "error"


class Composition(Struct, frozen=True):
    """The messages a draft becomes; ``per_agent`` when each recipient has its own text."""

    draft: Draft
    messages: tuple[Message, ...] = ()
    per_agent: bool = False
    problems: tuple[Problem, ...] = ()  # the composer's own, before any rule ran
    renders: dict[str, Rendered] = field(default_factory=dict)  # by agent id, per-agent only

    @property
    def recipients(self) -> tuple[str, ...]:
        return tuple(r for m in self.messages for r in m.recipients)


class Check(Struct, frozen=True):
    """The rule check of a composition: problems (worst first), score and status."""

    problems: tuple[Problem, ...]
    score: int | None  # None when the rules did not run (validation off, or nothing to check)
    status: str | None

    @property
    def blocking(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.blocks)


def accept_key(problem: Problem, text: str) -> tuple[str, str, str]:
    """What "allow here" remembers of a problem: its rule, its message and the flagged text (so
    the acceptance ends when that text changes)."""
    flagged = text[problem.span[0]:problem.span[1]] if problem.span is not None else ""
    return problem.rule_id, problem.message, flagged


def accept(result: Check, text: str, accepted: set[tuple[str, str, str]]) -> Check:
    """``result`` less the problems the captain allowed for this send; an ``error`` is never
    accepted (it blocks, and a blocked secret must never be sent). The score gets the weights
    of the accepted problems back and the status follows what is left."""
    kept = tuple(p for p in result.problems if p.blocks or accept_key(p, text) not in accepted)
    if len(kept) == len(result.problems) or result.score is None:
        return replace(result, problems=kept)
    back = sum(WEIGHTS.get(p.severity, 0) for p in result.problems if p not in kept)
    severities = {p.severity for p in kept}
    status = "FAIL" if "error" in severities else "WARN" if "warning" in severities else "PASS"
    return Check(kept, min(100, result.score + back), status)


def uses_placeholders(text: str) -> bool:
    """True when ``text`` names a placeholder; a text that does not parse counts as True."""
    try:
        return bool(placeholders(text))
    except TemplateError:
        return True


def compose(draft: Draft, roster: Roster) -> Composition:
    """The messages ``draft`` becomes (see the module docstring); never raises for bad input."""
    # the draft's type and priority are the form's strings: the model checks them
    base = checked(Message, {
        "sender": draft.sender, "recipients": [] if draft.everyone else list(draft.recipients),
        "type": draft.type, "priority": draft.priority, "tags": list(draft.tags), "content": draft.content})
    if not draft.fill_placeholders:
        return Composition(draft, (base,), problems=_unfilled_hint(draft.content))
    try:
        used = placeholders(draft.content)
    except TemplateError as exc:
        return Composition(draft, (), True, (_template_problem(exc),))
    if not used:
        return Composition(draft, (base,))
    if draft.type == "broadcast":
        return Composition(draft, (), True, (Problem(
            "per-agent-broadcast", "error",
            "Placeholders give every agent its own text, but a broadcast is one text for all: "
            "choose type text (or onboarding), or fill the placeholders in by hand."),))
    missing = [a for a in draft.recipients if a not in roster]
    if missing and not draft.everyone:
        return Composition(draft, (), True, (Problem(
            "recipient-unknown", "error", f"Not on the roster: {', '.join(missing)}."),))
    agents = list(roster.enabled() if draft.everyone else (roster.get(a) for a in draft.recipients))
    if draft.captain_last:
        agents.sort(key=lambda a: a.role.strip().lower() == "captain")
    messages: list[Message] = []
    renders: dict[str, Rendered] = {}
    blank: dict[str, list[str]] = {}
    for agent in agents:
        values = agent_values(agent, contract=draft.contract)
        try:
            rendered = render_mapped(draft.content, values)
        except TemplateError as exc:
            return Composition(draft, (), True, (_template_problem(exc),))
        renders[agent.id] = rendered
        messages.append(replace(base, recipients=[agent.id], content=rendered.text, id=new_id()))
        for name in used:
            if not values[name].strip():
                blank.setdefault(name, []).append(agent.id)
    return Composition(draft, tuple(messages), True, _blank_values(draft.content, blank), renders)


def _slots(text: str) -> list[Slot]:
    try:
        return [part for part in parse(text) if isinstance(part, Slot)]
    except TemplateError:
        return []  # with filling off, braces are only text


def _unfilled_hint(text: str) -> tuple[Problem, ...]:
    slots = _slots(text)
    if not slots:
        return ()
    return (Problem("placeholder-not-filled", "info",
                    f"{{{slots[0].name}}} will be sent as typed: turn on \"Fill {{placeholders}}\" "
                    "to give each agent its own text.", (slots[0].start, slots[0].end)),)


def _blank_values(text: str, blank: dict[str, list[str]]) -> tuple[Problem, ...]:
    found = []
    for slot in _slots(text):
        agents = blank.pop(slot.name, None)
        if agents:
            found.append(Problem("template-empty-value", "warning",
                                 f"{{{slot.name}}} is empty for {', '.join(agents)}: the text will read oddly.",
                                 (slot.start, slot.end), tuple(agents)))
    return tuple(found)


def for_everyone(draft: Draft, roster: Roster) -> Draft:
    """The draft the Broadcast command sends: every enabled agent, whatever was selected.

    One text for all goes out as a ``broadcast`` to the whole roster; an onboarding message or a
    template filled per agent names every enabled agent instead (a broadcast is one text).
    """
    per_agent = draft.fill_placeholders and uses_placeholders(draft.content)
    if draft.type == "onboarding" or per_agent:
        kind = "text" if draft.type == "broadcast" else draft.type
        return replace(draft, recipients=tuple(a.id for a in roster.enabled()), type=kind, everyone=False)
    return replace(draft, recipients=(), type="broadcast", everyone=True)


def as_sent(draft: Draft, roster: Roster) -> Draft:
    """The draft as the composer can send it: with nobody ticked that is the broadcast to everyone
    (``for_everyone``); otherwise the draft itself, to the ticked agents."""
    if draft.recipients or draft.everyone:
        return draft
    return for_everyone(draft, roster)


def _template_problem(exc: TemplateError) -> Problem:
    return Problem("template", "error", f"Template: {exc}", exc.span)


def check(composition: Composition, validator: MessageValidator | None) -> Check:
    """Run the rules on every message of ``composition`` and merge what they found."""
    problems: dict[tuple[str, tuple[int, int] | None, str], Problem] = {
        (p.rule_id, p.span, p.message): p for p in composition.problems}
    scores: list[int] = []
    statuses: list[str] = []
    if validator is not None and composition.messages:
        affected: dict[tuple[str, tuple[int, int] | None], list[str]] = {}
        for message in composition.messages:
            report = validator.validate(message.rule_fields())
            scores.append(report.score)
            statuses.append(report.status)
            rendered = composition.renders.get(message.recipients[0]) if composition.per_agent else None
            for v in report.violations:
                span = v.span
                if span is not None and rendered is not None:
                    span = rendered.source_span(span)
                key = (v.rule_id, span)
                if key not in affected:
                    affected[key] = []
                    problems[(v.rule_id, span, "")] = Problem(v.rule_id, v.severity, v.message, span)
                affected[key].extend(message.recipients)
        if composition.per_agent and len(composition.messages) > 1:
            everyone = set(composition.recipients)
            for (rule_id, span), agents in affected.items():
                if set(agents) != everyone:
                    key3 = (rule_id, span, "")
                    problems[key3] = replace(problems[key3], agents=tuple(dict.fromkeys(agents)))
    ordered = sorted(problems.values(), key=lambda p: (SEVERITY_ORDER.get(p.severity, 3),
                                                       p.span or (1 << 30, 0)))
    if composition.problems and not composition.messages:
        return Check(tuple(ordered), None, None)
    score = min(scores) if scores else None
    status = min(statuses, key=STATUS_ORDER.__getitem__) if statuses else None
    return Check(tuple(ordered), score, status)


def preview(composition: Composition, roster: Roster) -> list[tuple[str, str]]:
    """Each recipient's final text exactly as it will be delivered, in delivery order.

    Raises ``UnknownRecipient`` like a submit would (no recipients, or one not on the roster).
    """
    out: list[tuple[str, str]] = []
    for message in composition.messages:
        for agent in resolve_recipients(message, roster, captain_last=composition.draft.captain_last):
            out.append((agent.id, format_for_delivery(message, agent.id)))
    return out
