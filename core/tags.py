"""The standard message tags, apart from the models: the command line's ``--tag`` help names them
without loading the models (``quarterdeck send --help``, ``history``, ``status``)."""
from __future__ import annotations

STANDARD_TAGS: tuple[str, ...] = ("captain", "onboarding", "wrapup")
