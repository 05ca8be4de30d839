"""How the roster's problems name a YAML value ("an empty value", "[1, 2]", "a mapping"), and what
a transport that is not a known name should have been."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import yaml

from quarterdeck.core.model_errors import suggest

NULL = "tag:yaml.org,2002:null"


def transport_problem(node: yaml.Node, kinds: Mapping[str, Sequence[str]]) -> str:
    """What is wrong with a transport that is not one of ``kinds`` (each with its keys); a mapping
    (``transport: {kind: inbox, path: ...}``, ``transport: {inbox: ...}``): the kind is a name, and its
    keys sit beside it, in the agent."""
    names = list(kinds)
    if not isinstance(node, yaml.MappingNode):
        return f"unknown transport {describe(node)} (use one of: {', '.join(names)})"
    inner = {k.value: v for k, v in node.value if isinstance(k, yaml.ScalarNode)}
    named = inner.get("kind") or inner.get("type")
    given = named.value if isinstance(named, yaml.ScalarNode) else ""
    kind = given if given in kinds else next((k for k in inner if k in kinds), None)
    if kind is None:
        return (f"the transport is a name, not a mapping: write 'transport: {' | '.join(names)}'"
                f"{suggest(str(given), names) if given else ''}")
    keys = [k for k in inner if k in kinds[kind]] or list(kinds[kind])
    beside = f" and put {', '.join(keys)} beside it, in the agent" if keys else ""
    return f"the transport is a name, not a mapping: write 'transport: {kind}'{beside}"


def describe(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        if all(isinstance(item, yaml.ScalarNode) for item in node.value) and len(node.value) <= 4:
            return "[" + ", ".join(item.value for item in node.value) + "]"
        return f"a list of {len(node.value)} item{'s' * (len(node.value) != 1)}"
    return "an empty value" if node.tag == NULL else repr(node.value)
