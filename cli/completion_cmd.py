"""`quarterdeck completion bash|zsh|fish`: the shell snippet that makes Tab complete quarterdeck's
commands and options (argcomplete's ``register-python-argcomplete`` output for ``quarterdeck``).

Completion itself runs in ``quarterdeck.cli.main``: the shell calls ``quarterdeck`` with
``_ARGCOMPLETE`` set and argcomplete answers from the parser. Without argcomplete installed the
command says how to get it; every other command works as before.
"""
from __future__ import annotations

import argparse

from quarterdeck.cli.common import EXIT_OK, CliError

SHELLS = ("bash", "zsh", "fish")
HOW = {
    "bash": 'eval "$(quarterdeck completion bash)"   # in ~/.bashrc',
    "zsh": 'eval "$(quarterdeck completion zsh)"    # in ~/.zshrc',
    "fish": "quarterdeck completion fish | source   # in ~/.config/fish/config.fish",
}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "completion", help="print the shell snippet that turns on Tab completion",
        description="Print the snippet that turns on Tab completion of quarterdeck's commands and options. "
                    + " ".join(f"{shell}: {line}." for shell, line in HOW.items()))
    parser.add_argument("shell", choices=SHELLS, help="which shell the snippet is for")
    parser.set_defaults(func=cmd_completion)


def cmd_completion(args: argparse.Namespace) -> int:
    try:
        import argcomplete
    except ImportError:
        raise CliError("shell completion needs argcomplete: pip install argcomplete") from None
    print(argcomplete.shellcode(["quarterdeck"], shell=args.shell), end="")
    return EXIT_OK
