"""What an onboarding run will send: per agent, a wrap-up text and an onboarding text, checked first.

A plan is built completely before anything is queued, so a mistake stops the whole run rather
than leaving half the swarm in new chats: both templates must parse (an unknown placeholder is an
error naming ``file:line:column``), every chosen agent must be enabled on the roster, every
``{contract}`` must have a contract behind it, and every message must pass the active rules.

Templates are looked up by name like the composer's (a user template hides the bundled one):
``wrap-up`` for the message to the current chat, ``onboarding-<style>`` for the new chat.
Agents whose role is ``captain`` come last, so the captain's own chat is switched after the
crew's. Rendering never doubles a prefix (``Agent-{agent_id}`` gives ``Agent-3``).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from quarterdeck.core.compose.submit import UnknownRecipient, resolve_recipients
from quarterdeck.core.compose.templates import (
    Slot,
    TemplateError,
    TemplateInfo,
    agent_values,
    list_templates,
    load_template,
    parse,
    render_mapped,
)
from quarterdeck.core.delivery.prefix import format_for_delivery
from quarterdeck.core.models import Agent, Message, Priority

if TYPE_CHECKING:
    from quarterdeck.core.roster.roster import Roster
    from quarterdeck.core.validation.engine import MessageValidator

STYLES: tuple[str, ...] = ("friendly", "professional")
WRAPUP_TEMPLATE = "wrap-up"
ContractFor = Callable[[str], str | None]


def onboarding_template_name(style: str) -> str:
    return f"onboarding-{style}"


class OnboardingError(ValueError):
    """Nothing was queued: a template, an agent choice or a rule is wrong; the text says what."""


class TemplateProblem(OnboardingError):
    """A template cannot be used; ``str()`` is ``file:line:column: problem``."""

    def __init__(self, path: Path, line: int, column: int, problem: str) -> None:
        self.path, self.line, self.column, self.problem = Path(path), line, column, problem
        super().__init__(f"{path}:{line}:{column}: {problem}")

    @classmethod
    def from_error(cls, path: Path, error: TemplateError) -> TemplateProblem:
        return cls(path, error.line, error.col, error.problem)


class RulesRefused(OnboardingError):
    """A rendered message fails an ``error`` rule; ``failures`` are ``(agent, step, rule, message)``."""

    def __init__(self, failures: list[tuple[str, str, str, str]]) -> None:
        self.failures = failures
        lines = [f"{agent} {step}: {rule}: {text}" for agent, step, rule, text in failures]
        super().__init__("the rules refuse these messages (nothing was queued):\n  " + "\n  ".join(lines))


@dataclass(frozen=True)
class Template:
    """A template file read and parsed; ``uses`` are its placeholder names in first-use order."""

    name: str
    path: Path
    text: str
    uses: tuple[str, ...]

    @classmethod
    def read(cls, info: TemplateInfo) -> Template:
        try:
            text = load_template(info)
        except (OSError, UnicodeDecodeError) as exc:
            raise OnboardingError(f"{info.path}: cannot read the template: {exc}") from exc
        try:
            parts = parse(text)
        except TemplateError as exc:
            raise TemplateProblem.from_error(info.path, exc) from exc
        uses = tuple(dict.fromkeys(p.name for p in parts if isinstance(p, Slot)))
        return cls(info.name, info.path, text, uses)

    def slot(self, name: str) -> Slot:
        return next(p for p in parse(self.text) if isinstance(p, Slot) and p.name == name)

    def render(self, agent: Agent, contract_for: ContractFor | None) -> str:
        contract = None
        if "contract" in self.uses:
            contract = contract_for(agent.id) if contract_for is not None else None
            if contract is None:
                slot = self.slot("contract")
                where = TemplateError("", self.text, slot.start)
                raise TemplateProblem(self.path, where.line, where.col,
                                      f"no contract assigned to {agent.id}: {{contract}} needs an open or "
                                      f"claimed contract for it (assign one, or drop {{contract}} from the "
                                      "template)")
        try:
            return render_mapped(self.text, agent_values(agent, contract=contract)).text
        except TemplateError as exc:  # only a value missing here; parse errors were caught on read
            raise TemplateProblem.from_error(self.path, exc) from exc


def find_templates(style: str, *, user_dir: Path | None = None,
                   bundled_dir: Path | None = None) -> tuple[Template, Template]:
    """The wrap-up and the ``style`` onboarding template, read and parsed."""
    if style not in STYLES:
        raise OnboardingError(f"unknown style {style!r}: choose {' or '.join(STYLES)}")
    known = {info.name: info for info in list_templates(user_dir, bundled_dir)}
    found = []
    for name in (WRAPUP_TEMPLATE, onboarding_template_name(style)):
        if name not in known:
            raise OnboardingError(f"no template named {name!r}: save one as {name}.md in your templates "
                                  f"folder (the bundled ones are missing from this installation)")
        found.append(Template.read(known[name]))
    return found[0], found[1]


@dataclass(frozen=True)
class Step:
    """One agent's part of the run: the wrap-up to its current chat, then the onboarding."""

    agent_id: str
    role: str
    transport: str
    wrapup: Message
    onboarding: Message

    def texts(self) -> tuple[str, str]:
        """Both texts exactly as they will be delivered (header line included)."""
        return (format_for_delivery(self.wrapup, self.agent_id),
                format_for_delivery(self.onboarding, self.agent_id))


@dataclass(frozen=True)
class Plan:
    style: str
    priority: Priority
    wrapup_template: Template
    onboarding_template: Template
    steps: tuple[Step, ...]
    notes: tuple[str, ...] = ()  # worth knowing, not blocking (an empty role, no new-chat keys)

    @property
    def agent_ids(self) -> tuple[str, ...]:
        return tuple(step.agent_id for step in self.steps)

    def messages(self) -> list[Message]:
        """Every message in the order it is queued: each agent's wrap-up, then its onboarding."""
        return [m for step in self.steps for m in (step.wrapup, step.onboarding)]

    def to_json(self) -> dict[str, Any]:
        return {"style": self.style, "priority": self.priority,
                "templates": {"wrapup": str(self.wrapup_template.path),
                              "onboarding": str(self.onboarding_template.path)},
                "notes": list(self.notes),
                "agents": [{"agent": s.agent_id, "role": s.role, "transport": s.transport,
                            "wrapup": s.texts()[0], "onboarding": s.texts()[1]} for s in self.steps]}


def choose_agents(roster: Roster, agent_ids: Sequence[str] | None) -> list[Agent]:
    """The agents to onboard (None: every enabled one), captains last, each once."""
    ids = [a.id for a in roster.enabled()] if agent_ids is None else list(dict.fromkeys(agent_ids))
    if not ids:
        raise OnboardingError("no agents to onboard: choose some, or enable agents in the roster")
    probe = Message(sender="Captain", recipients=ids, content="-")
    try:
        return resolve_recipients(probe, roster, captain_last=True)
    except UnknownRecipient as exc:
        raise OnboardingError(str(exc)) from exc


def build_plan(roster: Roster, agent_ids: Sequence[str] | None, *, style: str = "friendly",
               urgent: bool = False, sender: str = "Captain", contract_for: ContractFor | None = None,
               validator: MessageValidator | None = None, user_dir: Path | None = None,
               bundled_dir: Path | None = None) -> Plan:
    """Check everything and return the plan; raises ``OnboardingError`` (see the module docstring)."""
    wrapup_tpl, onboarding_tpl = find_templates(style, user_dir=user_dir, bundled_dir=bundled_dir)
    agents = choose_agents(roster, agent_ids)
    priority: Priority = "urgent" if urgent else "normal"
    steps, notes = [], []
    for agent in agents:
        wrapup = Message(sender=sender, recipients=[agent.id], priority=priority, tags=["wrapup"],
                         content=wrapup_tpl.render(agent, contract_for))
        onboarding = Message(sender=sender, recipients=[agent.id], type="onboarding", priority=priority,
                             tags=["onboarding"], content=onboarding_tpl.render(agent, contract_for))
        steps.append(Step(agent.id, agent.role, agent.transport.kind, wrapup, onboarding))
        notes.extend(_notes(agent, (wrapup_tpl, onboarding_tpl)))
    plan = Plan(style, priority, wrapup_tpl, onboarding_tpl, tuple(steps), tuple(notes))
    if validator is not None:
        check_rules(plan, validator)
    return plan


def _notes(agent: Agent, templates: tuple[Template, Template]) -> list[str]:
    notes = []
    if not agent.role.strip() and any("role" in t.uses for t in templates):
        notes.append(f"{agent.id} has no role: {{role}} is empty in its texts")
    if agent.transport.kind in ("tmux", "inbox"):
        notes.append(f"{agent.id} ({agent.transport.kind}) has no new-chat keys: both texts arrive in the "
                     "same place")
    return notes


def check_rules(plan: Plan, validator: MessageValidator) -> None:
    """Raise ``RulesRefused`` when any message of the plan fails an ``error`` rule."""
    failures: list[tuple[str, str, str, str]] = []
    for step in plan.steps:
        for name, message in (("wrap-up", step.wrapup), ("onboarding", step.onboarding)):
            report = validator.validate(message.rule_fields())
            if report.status == "FAIL":
                failures.extend((step.agent_id, name, v.rule_id, v.message)
                                for v in report.violations if v.severity == "error")
    if failures:
        raise RulesRefused(failures)
