"""`quarterdeck rules check` and `quarterdeck validate`."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from quarterdeck.cli.common import EXIT_FAIL, EXIT_OK, read_text_arg, rule_files, rules_dir
from quarterdeck.core.tags import STANDARD_TAGS


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    rules = sub.add_parser("rules", help="check rule files")
    rules_sub = rules.add_subparsers(dest="rules_command", required=True, metavar="COMMAND")
    check = rules_sub.add_parser("check", help="check rule files and print diagnostics")
    check.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                       help="rule files or folders (default: the active rules)")
    check.set_defaults(func=cmd_rules_check)

    val = sub.add_parser("validate", help="validate a message against the rules")
    val.add_argument("-m", "--message", help="the message text")
    val.add_argument("text", nargs="?", metavar="TEXT",
                      help="the message text (as -m TEXT), or - to read it from standard input")
    val.add_argument("--rules", type=Path, help="rules folder or file (default: the active rules)")
    val.add_argument("--sender", default="Captain")
    val.add_argument("-a", "--to", dest="recipients", action="append", default=[], metavar="AGENT")
    val.add_argument("--type", default="text", dest="msg_type")
    val.add_argument("--priority", default="normal")
    val.add_argument("--tag", dest="tags", action="append", default=[],
                     help=f"tag (standard: {', '.join(STANDARD_TAGS)})")
    val.add_argument("--json", action="store_true", help="machine-readable report")
    val.set_defaults(func=cmd_validate)


def cmd_rules_check(args: argparse.Namespace) -> int:
    from quarterdeck.core.validation import load_rule_files

    files: list[Path] = []
    for location in args.paths or [rules_dir(args)]:
        files.extend(rule_files(location))
    ruleset, diagnostics = load_rule_files(files)
    for diag in diagnostics:
        print(diag)
    errors = sum(1 for d in diagnostics if d.severity == "error")
    if errors or ruleset is None:
        print(f"{errors} error(s) in {len(files)} file(s); the rules were not loaded")
        return EXIT_FAIL
    print(f"ok: {len(ruleset)} rules from {len(files)} file(s) ({', '.join(str(f) for f in files)})")
    return EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    from quarterdeck.cli.common import CliError
    from quarterdeck.core.validation import Validator, load_rule_files

    text = read_text_arg(args.message, args.text)
    ruleset, diagnostics = load_rule_files(rule_files(rules_dir(args)))
    if ruleset is None:
        raise CliError("the rule files have errors:\n" + "\n".join(str(d) for d in diagnostics))
    # no -a: the text is judged as the one message it can be, the broadcast to everyone (as the
    # composer does with nobody ticked), not refused for having no recipients
    broadcast = not args.recipients and args.msg_type == "text"
    report = Validator(ruleset).validate({
        "content": text, "sender": args.sender, "recipients": args.recipients,
        "type": "broadcast" if broadcast else args.msg_type, "priority": args.priority, "tags": args.tags,
    })
    if args.json:
        print(json.dumps({**report.to_dict(), "checked_as": "broadcast" if broadcast else args.msg_type},
                         indent=2, sort_keys=True))
    else:
        note = "  (checked as a broadcast to everyone: give -a AGENT for a direct message)" if broadcast else ""
        print(f"{report.status}  score {report.score}/100{note}")
        for v in report.violations:
            span = f" at {v.span[0]}-{v.span[1]}" if v.span else ""
            print(f"  {v.severity:<7} {v.rule_id}: {v.message} [{v.field}{span}]")
    return EXIT_FAIL if report.status == "FAIL" else EXIT_OK
