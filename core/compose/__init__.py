"""Compose: from what the captain typed to checked messages queued for each recipient.

``draft`` turns the composer's text into messages and their problems, ``templates`` fills
placeholders, ``submit`` runs the rule gate and queues the deliveries in the outbox, and
``progress`` follows the last send per recipient. The one-line header every delivered message
carries is ``core.delivery.prefix``.
"""
