"""The rule engine: check rule files, load rule sets and validate messages.

Rule files use a Spectral-like vocabulary (see ``schema``); problems in them
come back as positioned ``Diagnostic``s. ``Validator`` runs a ``RuleSet``
against a message and returns a ``Report`` (see ``report`` for the score).
"""

from quarterdeck.core.resources import bundled_assets_dir, bundled_rules_dir

from .diagnostics import Diagnostic
from .engine import MessageValidator, Validator, normalize_fields
from .functions import FUNCTIONS
from .loader import check_rule_text, load_rule_files, load_rule_texts
from .model import FIELDS, Finding, Rule, RuleSet, Violation
from .report import WEIGHTS, Report, score_of, status_of
from .store import RuleStore

__all__ = [
    "FIELDS",
    "FUNCTIONS",
    "WEIGHTS",
    "Diagnostic",
    "Finding",
    "MessageValidator",
    "Report",
    "Rule",
    "RuleSet",
    "RuleStore",
    "Validator",
    "Violation",
    "bundled_assets_dir",
    "bundled_rules_dir",
    "check_rule_text",
    "load_rule_files",
    "load_rule_texts",
    "normalize_fields",
    "score_of",
    "status_of",
]
