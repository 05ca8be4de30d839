"""The table of ``quarterdeck``'s commands, and the parser that imports a command's module only when it is chosen.

``quarterdeck --help`` lists every command with its one-line help from :data:`COMMANDS` without importing
any of them; ``quarterdeck send ...`` imports :mod:`quarterdeck.cli.delivery_cmd` (the module that registers
``send``) at the moment argparse picks ``send``, and no other command's module. A module registers its
commands itself (``register(sub)``), as before; the table only says where each one lives and what its help
line is (tests/cli/test_command_table.py keeps the two equal).
"""
from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable, Iterable, Sequence
from typing import Any

# command -> (its module in quarterdeck.cli, its one-line help), in the order --help lists them
COMMANDS: dict[str, tuple[str, str]] = {
    "rules": ("rules_cmd", "check rule files"),
    "validate": ("rules_cmd", "validate a message against the rules"),
    "send": ("delivery_cmd", "send a message and wait for every recipient's outcome"),
    "history": ("delivery_cmd", "search past deliveries"),
    "status": ("delivery_cmd", "the outbox and each agent's last delivery"),
    "stop": ("delivery_cmd", "stop all: cancel every queued delivery and halt every Quarterdeck process "
                             "delivering from this outbox"),
    "resume": ("delivery_cmd", "resume all: every Quarterdeck process halted by a stop all delivers again"),
    "agents": ("agents_cmd", "list, import, capture and check the agent roster"),
    "onboard": ("onboard_cmd", "wrap up agents' chats and onboard them into new chats"),
    "contracts": ("contracts_cmd", "tasks for agents: create, assign, claim, complete, send"),
    "metrics": ("monitor_cmd", "delivery metrics from the history, Prometheus text format"),
    "health": ("monitor_cmd", "each agent's health from its recent deliveries"),
    "serve": ("monitor_cmd", "deliver from the outbox and serve /metrics, /health, /livez"),
    "config": ("config_cmd", "show the effective configuration"),
    "deadletter": ("deadletter_cmd", "list, replay or purge events that could not be handled"),
    "doctor": ("doctor_cmd", "check the outbox, dead letters and relay ledger files; --repair rebuilds a "
                             "damaged one from what can be read"),
    "gui": ("gui_cmd", "open the panel (the default with no command)"),
    "demo": ("gui_cmd", "open the panel with N simulated agent chat windows"),
    "completion": ("completion_cmd", "print the shell snippet that turns on Tab completion"),
    "hook": ("hook_cmd", "record an event from an agent's own hook (stdin: the event's JSON); always exits 0"),
    "attention": ("attention_cmd", "the agents waiting for you (a permission, a question), longest waiting "
                                   "first"),
    "notify": ("notify_cmd", "desktop notifications: do not disturb, quiet hours, mute an agent, status"),
    "relay": ("relay_cmd", "deliver for a captain on another machine: take deliveries from the broker, report "
                           "every receipt"),
}
PACKAGE = "quarterdeck.cli"


def module_names() -> list[str]:
    """Every command module, in the table's order, once each."""
    return list(dict.fromkeys(module for module, _ in COMMANDS.values()))


class LazyCommands(argparse._SubParsersAction):
    """The top level's COMMAND: a placeholder parser per command (its name and help line) until argparse
    chooses it; then the command's module registers its real parsers in their place."""

    def setup(self, finish: Callable[[Sequence[argparse.ArgumentParser]], None]) -> None:
        """Add a placeholder for every command: its line in the help (the pseudo-action ``add_parser`` makes)
        and one parser shared by all of them, never parsed with (choosing a command puts the command's own
        parsers in its place), so a start builds no parser for the commands it does not run. ``finish`` is
        run on the parsers a module registers."""
        self._finish = finish
        self._pending: dict[str, str] = {}
        placeholder = self._parser_class(prog=self._prog_prefix, add_help=False)
        for name, (module, help_text) in COMMANDS.items():
            self._choices_actions.append(self._ChoicesPseudoAction(name, (), help_text))
            self._name_parser_map[name] = placeholder
            self._pending[name] = module

    def resolve(self, names: Iterable[str]) -> None:
        """Import the modules of ``names`` (those still placeholders; any other word is ignored) and let
        each register its commands."""
        for module in dict.fromkeys(self._pending[name] for name in names if name in self._pending):
            mine = {name for name, owner in self._pending.items() if owner == module}
            for name in mine:
                del self._name_parser_map[name], self._pending[name]
            self._choices_actions = [a for a in self._choices_actions if a.dest not in mine]
            before = set(self._name_parser_map)
            importlib.import_module(f"{PACKAGE}.{module}").register(self)
            self._finish([self._name_parser_map[name] for name in dict.fromkeys(self._name_parser_map)
                          if name not in before])

    def resolve_all(self) -> None:
        self.resolve(list(self._pending))

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        self.resolve(values[:1])
        super().__call__(parser, namespace, values, option_string)
