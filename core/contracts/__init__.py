"""Contracts: tasks the captain hands to agents, kept next to the outbox in ``quarterdeck.sqlite3``.

A contract has a title, a description and points; it is created open (optionally assigned to an
agent), claimed by one agent, then completed with a note or cancelled. The store enforces those
moves and makes a claim atomic across processes (see :mod:`quarterdeck.core.contracts.store`).

:func:`contract_text` is the text the ``{contract}`` placeholder of an onboarding template stands
for; :func:`contract_message` is the message "Send to agent" queues through the normal composer
path (rules, outbox, dispatcher, history).
"""
from quarterdeck.core.contracts.model import (
    ACTIVE,
    FINAL,
    AgentStatus,
    Board,
    ClaimConflict,
    Contract,
    ContractError,
    ContractState,
    InvalidTransition,
    UnknownContract,
    allowed,
    parse_id,
)
from quarterdeck.core.contracts.schema import CONTRACTS_SCHEMA_VERSION
from quarterdeck.core.contracts.secrets import redaction_text
from quarterdeck.core.contracts.store import ContractStore, sendable
from quarterdeck.core.contracts.text import contract_message, contract_text, points_text

__all__ = [
    "ACTIVE",
    "CONTRACTS_SCHEMA_VERSION",
    "FINAL",
    "AgentStatus",
    "Board",
    "ClaimConflict",
    "Contract",
    "ContractError",
    "ContractState",
    "ContractStore",
    "InvalidTransition",
    "UnknownContract",
    "allowed",
    "contract_message",
    "contract_text",
    "parse_id",
    "points_text",
    "redaction_text",
    "sendable",
]
