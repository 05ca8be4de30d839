"""Roster YAML to agents and groups, collecting every problem with its line, column, agent and key.

The file is composed into YAML nodes (so each problem keeps its position), checked for shape here,
then each agent's flat keys are handed to :class:`quarterdeck.core.models.Agent` with the transport keys nested
under ``transport``. Model errors are mapped back to the node of the key that caused them.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

import yaml
from msgspec.structs import fields as struct_fields

from quarterdeck.core.model_check import ErrorDict, checked_all
from quarterdeck.core.model_errors import suggest
from quarterdeck.core.models import Agent, DryRunTransport, GuiTransport, InboxTransport, TmuxTransport
from quarterdeck.core.roster.problems import RosterError, RosterProblem
from quarterdeck.core.roster.yaml_words import NULL, describe, transport_problem

if TYPE_CHECKING:  # the screens are read only for gui agents' points (check_points)
    from quarterdeck.core.desktop.screens import ScreenRect

TRANSPORTS: dict[str, type[Any]] = {"gui": GuiTransport, "tmux": TmuxTransport, "inbox": InboxTransport,
                                    "dryrun": DryRunTransport}
_MODELS: list[type[Any]] = [Agent, *TRANSPORTS.values()]
_FIELDS = {model: struct_fields(model) for model in _MODELS}  # read once: each read resolves the type hints
TRANSPORT_KEYS = {kind: tuple(f.encode_name for f in _FIELDS[model]) for kind, model in TRANSPORTS.items()}
AGENT_KEYS = (*(f.encode_name for f in _FIELDS[Agent] if f.name != "transport"), "transport")
ALL_KEYS = (*AGENT_KEYS, *dict.fromkeys(k for keys in TRANSPORT_KEYS.values() for k in keys))
BOOL_KEYS = frozenset(f.encode_name for fields in _FIELDS.values() for f in fields if f.type is bool)
POINT_KEYS = ("chat", "onboarding")
TOP_KEYS = ("agents", "groups")

_STR = "tag:yaml.org,2002:str"
_BOOL = "tag:yaml.org,2002:bool"

Fields = dict[str, tuple[yaml.Node, yaml.Node]]


def parse(text: str, file: str, screens: Sequence[ScreenRect] | None, loader: type[Any] = yaml.SafeLoader
          ) -> tuple[tuple[Agent, ...], dict[str, tuple[str, ...]], tuple[str, ...]]:
    """Agents, groups and warnings of a roster text, composed by ``loader``; raises ``RosterError``."""
    parser = _Parser(file, loader)
    root = parser.compose(text)
    if root is None:
        parser.problem_at(1, 1, None, None, "the file is empty: it needs an 'agents:' list")
    if isinstance(root, yaml.SequenceNode):  # the agents' list without its key
        parser.problem(root, None, None, f"the roster is {describe(root)}, not a mapping: write 'agents:' on "
                                         "the first line and indent the list under it")
        raise RosterError(parser.problems)
    top = parser.mapping(root, None, None, "the roster") if root is not None else None
    if root is None or top is None:
        raise RosterError(parser.problems)
    for key, (key_node, _) in top.items():
        if key not in TOP_KEYS and not key.startswith("x-"):
            parser.problem(key_node, None, key, f"unknown key {key!r}{suggest(key, TOP_KEYS)}")
    parsed: list[tuple[Agent | None, Fields]] = []
    first_line: dict[str, int] = {}
    if "agents" not in top:
        parser.problem(root, None, None, "missing 'agents:' (a list of agents)")
    elif not _is_null(agents_node := top["agents"][1]):
        if not isinstance(agents_node, yaml.SequenceNode):
            parser.problem(agents_node, None, "agents", "must be a list of agents (lines starting '- ')")
        else:
            for index, item in enumerate(agents_node.value):
                agent, fields, raw_id = parser.agent(item, index)
                parsed.append((agent, fields))
                if raw_id is None:
                    continue
                id_node = fields["id"][1]
                if raw_id in first_line:
                    parser.problem(id_node, raw_id, "id", f"duplicate id: {raw_id!r} is already "
                                   f"defined on line {first_line[raw_id]}")
                else:
                    first_line[raw_id] = id_node.start_mark.line + 1
    groups = parser.groups(top["groups"][1], list(first_line)) if "groups" in top else {}
    warnings = parser.check_points(parsed, screens)
    if parser.problems:
        raise RosterError(parser.problems)
    return tuple(agent for agent, _ in parsed if agent is not None), groups, warnings


class _Parser:
    def __init__(self, file: str, composer: type[Any]):
        self.file, self._composer = file, composer
        self.problems: list[RosterProblem] = []
        self._loader = yaml.SafeLoader("")  # builds values from the nodes, whichever loader composed them

    def problem_at(self, line: int, col: int, agent: str | None, field: str | None, message: str) -> None:
        self.problems.append(RosterProblem(self.file, line, col, agent, field, message))

    def problem(self, node: yaml.Node, agent: str | None, field: str | None, message: str) -> None:
        self.problem_at(node.start_mark.line + 1, node.start_mark.column + 1, agent, field, message)

    def compose(self, text: str) -> yaml.Node | None:
        try:
            return yaml.compose(text, Loader=self._composer)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            context = f" ({exc.context})" if exc.context and exc.problem else ""
            message = f"YAML syntax error: {exc.problem or exc.context}{context}"
            line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        except yaml.reader.ReaderError as exc:
            before = text[:exc.position]
            line, col = before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1
            char = exc.character if isinstance(exc.character, int) else ord(exc.character[:1] or "\0")
            message = f"the file is not readable text: {exc.reason} (U+{char:04X})"
        raise RosterError([RosterProblem(self.file, line, col, None, None, message)])

    def value(self, node: yaml.Node, agent: str | None, key: str) -> tuple[bool, Any]:
        try:
            return True, self._loader.construct_document(node)
        except yaml.MarkedYAMLError as exc:
            self.problem(node, agent, key, str(exc.problem or exc))
            return False, None

    def mapping(self, node: yaml.Node, agent: str | None, field: str | None, what: str) -> Fields | None:
        if not isinstance(node, yaml.MappingNode):
            self.problem(node, agent, field, f"{what} must be a mapping of 'key: value' lines, "
                                             f"not {describe(node)}")
            return None
        fields: Fields = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key is None:
                self.problem(key_node, agent, field, "keys must be plain names")
            elif key in fields:
                self.problem(key_node, agent, key, f"{key!r} is given twice (first on line "
                                                   f"{fields[key][0].start_mark.line + 1})")
            else:
                fields[key] = (key_node, value_node)
        try:
            self._loader.flatten_mapping(node)
        except yaml.MarkedYAMLError as exc:
            self.problem(node, agent, field, f"bad merge ('<<'): {exc.problem}")
            return fields
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value not in fields:
                fields[key_node.value] = (key_node, value_node)
        return fields

    def agent(self, node: yaml.Node, index: int) -> tuple[Agent | None, Fields, str | None]:
        label = f"agents[{index}]"
        if isinstance(node, yaml.MappingNode):
            label = next((v.value for k, v in node.value if k.value == "id" and _is_str(v)
                          and v.value.strip()), label)
        fields = self.mapping(node, label, None, "an agent entry")
        if fields is None:
            return None, {}, None
        before = len(self.problems)
        raw_id = None
        if "id" not in fields:
            self.problem(node, label, "id", "missing required key 'id'")
        elif _is_str(id_node := fields["id"][1]) and id_node.value.strip():
            raw_id = id_node.value
        kind = self._kind(node, fields, label)
        allowed = (*AGENT_KEYS, *TRANSPORT_KEYS[kind]) if kind else ALL_KEYS
        for key, (key_node, value_node) in fields.items():
            if key in BOOL_KEYS and key in allowed and value_node.tag != _BOOL:
                self.problem(value_node, label, key, f"must be true or false, not {describe(value_node)}")
            if key in allowed:
                continue
            owners = [k for k, keys in TRANSPORT_KEYS.items() if key in keys]
            if owners:
                message = f"{key!r} is a setting of {'/'.join(owners)} agents; this one is {kind}"
            else:
                message = f"unknown key {key!r}{suggest(key, ALL_KEYS)}"
            self.problem(key_node, label, key, message)
        reported = {p.field for p in self.problems[before:]}
        data: dict[str, Any] = {}
        transport: dict[str, Any] = {"kind": kind or "dryrun"}
        for key in allowed:
            if key in fields and key != "transport" and key not in reported:
                ok, value = self.value(fields[key][1], label, key)
                target = data if key in AGENT_KEYS else transport
                if ok:
                    target[key] = value
                else:
                    reported.add(key)
        data["transport"] = transport
        agent, errors = checked_all(Agent, data)
        if agent is None:
            self._model_errors(errors, node, fields, label, kind, reported)
            return None, fields, raw_id
        return (agent if kind and len(self.problems) == before else None), fields, raw_id

    def _kind(self, node: yaml.Node, fields: Fields, label: str) -> str | None:
        if "transport" not in fields:
            self.problem(node, label, "transport", f"missing required key 'transport' "
                                                   f"(one of: {', '.join(TRANSPORTS)})")
            return None
        kind_node = fields["transport"][1]
        if _is_str(kind_node) and kind_node.value in TRANSPORTS:
            return str(kind_node.value)
        self.problem(kind_node, label, "transport", transport_problem(kind_node, TRANSPORT_KEYS))
        return None

    def _model_errors(self, errors: list[ErrorDict], node: yaml.Node, fields: Fields, label: str,
                      kind: str | None, reported: set[str | None]) -> None:
        seen: set[tuple[int, int, str]] = set()
        for error in errors:
            loc = list(error["loc"])
            if loc[:1] == ["transport"] and kind is None:
                continue
            loc = loc[1:] if loc[:1] == ["transport"] else loc
            key = str(loc[0]) if loc else None
            if key in reported:
                continue
            target = fields[key][1] if key in fields else node
            for part in loc[1:]:  # into a list item, or a key of a mapping such as window:
                target = _child(target, part)
            message = (f"unknown key {loc[-1]!r}" if error["type"] == "extra_forbidden" and len(loc) > 1
                       else error["msg"])
            field = f"{key}{''.join(f'[{p}]' if isinstance(p, int) else f'.{p}' for p in loc[1:])}" if key else None
            if key in POINT_KEYS and key in fields:
                target, field = fields[key][1], key
                message = f"expected a point [x, y] of two whole numbers, not {describe(target)}"
            elif error["type"] == "missing" and len(loc) == 1:
                message = f"missing required key {key!r}"
            elif error["type"] == "string_type" and isinstance(target, yaml.ScalarNode) \
                    and target.style is None and target.tag != NULL:
                message += f' (put it in quotes: "{target.value}")'
            marker = (target.start_mark.line, target.start_mark.column, message)
            if marker not in seen:
                seen.add(marker)
                self.problem(target, label, field, message)

    def groups(self, node: yaml.Node, ids: list[str]) -> dict[str, tuple[str, ...]]:
        if _is_null(node):
            return {}
        fields = self.mapping(node, None, "groups", "'groups'")
        groups: dict[str, tuple[str, ...]] = {}
        for name, (_, value_node) in (fields or {}).items():
            where = f"groups.{name}"
            if not isinstance(value_node, yaml.SequenceNode):
                self.problem(value_node, None, where, "a group is a list of agent ids, "
                                                      "e.g. [Agent-1, Agent-2]")
                continue
            members: list[str] = []
            for member in value_node.value:
                if not _is_str(member):
                    self.problem(member, None, where, f"expected an agent id, not {describe(member)}")
                elif member.value not in ids:
                    self.problem(member, None, where, f"unknown agent {member.value!r}"
                                                      f"{suggest(member.value, ids)}")
                elif member.value in members:
                    self.problem(member, None, where, f"{member.value!r} is listed twice")
                else:
                    members.append(member.value)
            groups[name] = tuple(members)
        return groups

    def check_points(self, parsed: list[tuple[Agent | None, Fields]],
                     screens: Sequence[ScreenRect] | None) -> tuple[str, ...]:
        gui = [(a, f) for a, f in parsed if a is not None and isinstance(a.transport, GuiTransport)]
        if not gui:
            return ()
        from quarterdeck.core.desktop.screens import describe_screens, detect_screens, point_on_screens
        if screens is None and not (screens := detect_screens()):
            return ("screen points were not checked: no display could be queried for its monitors",)
        if not screens:
            return ("screen points were not checked: no screens were given",)
        for agent, fields in gui:
            for key in POINT_KEYS:
                point = getattr(agent.transport, key)
                if point is not None and not point_on_screens(point, screens):
                    self.problem(fields[key][1], agent.id, key, f"point ({point[0]}, {point[1]}) is on "
                                 f"no screen (screens: {describe_screens(screens)})")
        return ()


def _child(node: yaml.Node, part: str | int) -> yaml.Node:
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        return cast(yaml.Node, node.value[part])
    pairs = node.value if isinstance(node, yaml.MappingNode) else ()
    return next((v for k, v in pairs if getattr(k, "value", None) == part), node)


def _is_str(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == _STR


def _is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == NULL
