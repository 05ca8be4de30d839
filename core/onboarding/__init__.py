"""Onboarding: wrap up each agent's current chat, open a new one, and send the onboarding text.

For every chosen agent, in order (captains last): the ``wrap-up`` template as a normal message
tagged ``wrapup`` to the current chat, then the ``onboarding-<style>`` template as an
``onboarding`` message, which makes GUI delivery press the agent's new-chat keys and click its
onboarding point before pasting. Both are queued at one priority (``urgent`` uses the urgent
submit keys), so the outbox keeps them in that order; a gate cancels the onboarding when the
wrap-up did not land. Everything is rendered and checked before the first message is queued.

:mod:`quarterdeck.core.onboarding.plan` builds and checks, :mod:`quarterdeck.core.onboarding.run` queues and follows,
:mod:`quarterdeck.core.onboarding.gate` guards the order. The CLI (``quarterdeck onboard``) and the panel's
Onboarding tab are thin adapters over these.
"""
from quarterdeck.core.onboarding.gate import OnboardingGate, gate_for
from quarterdeck.core.onboarding.plan import (
    STYLES,
    WRAPUP_TEMPLATE,
    OnboardingError,
    Plan,
    RulesRefused,
    Step,
    Template,
    TemplateProblem,
    build_plan,
    choose_agents,
    find_templates,
    onboarding_template_name,
)
from quarterdeck.core.onboarding.run import STEPS, OnboardingProgress, Queued, queue_plan, store_contracts

__all__ = [
    "STEPS",
    "STYLES",
    "WRAPUP_TEMPLATE",
    "OnboardingError",
    "OnboardingGate",
    "OnboardingProgress",
    "Plan",
    "Queued",
    "RulesRefused",
    "Step",
    "Template",
    "TemplateProblem",
    "build_plan",
    "choose_agents",
    "find_templates",
    "gate_for",
    "onboarding_template_name",
    "queue_plan",
    "store_contracts",
]
