"""How a contract reads when it is sent to an agent, on its own or inside an onboarding template.

:func:`contract_text` is what the ``{contract}`` placeholder of a template stands for (see
core/compose/templates.py). Its output, for contract 7 with a description::

    Contract #7: Fix the login redirect (3 points)
    After a successful login the user lands on /home instead of the page they asked for.
    Keep the ?next= parameter through the OAuth round trip.

The first line is always ``Contract #<id>: <title> (<n> point[s])``; the description follows on
the next lines as written (it is left out when empty). No trailing newline, so the text drops into
a sentence or a numbered list without a blank line after it.

:func:`contract_message` wraps that text for the captain's "Send to agent": it adds how to claim
and complete the contract with the ``quarterdeck contracts`` command, so an agent that can run
commands reports its own progress.
"""
from __future__ import annotations

from quarterdeck.core.contracts.model import Contract, ContractState
from quarterdeck.core.models import Message


def points_text(points: int) -> str:
    return "1 point" if points == 1 else f"{points} points"


def contract_text(contract: Contract) -> str:
    """The contract as plain text for an agent: headline, then the description (see the module docstring)."""
    headline = f"Contract #{contract.id}: {contract.title} ({points_text(contract.points)})"
    return f"{headline}\n{contract.description}" if contract.description else headline


def contract_message(contract: Contract, *, sender: str = "Captain") -> Message:
    """A direct message handing ``contract`` to its assignee (who must be set: see ``sendable``)."""
    if contract.assignee is None:
        raise ValueError(f"contract #{contract.id} has no assignee to send it to")
    if contract.state == ContractState.CLAIMED:
        how = (f"You have claimed it. When it is done, run: quarterdeck contracts complete {contract.id} "
               '--note "what you did"')
    else:
        how = (f"Claim it before you start: quarterdeck contracts claim {contract.id} {contract.assignee}\n"
               f'When it is done: quarterdeck contracts complete {contract.id} --note "what you did"')
    content = f"{contract.assignee}, this contract is yours.\n\n{contract_text(contract)}\n\n{how}"
    return Message(sender=sender, recipients=[contract.assignee], type="text", content=content)
