"""The captain's side of relayed delivery (issue 14): deliveries to agents on other machines go out
through the broker in batches and come back as receipts, without holding up anything else.

``forward.Forwarder`` claims the queued deliveries of the relays' agents in batches, writes them to
each relay's stream and keeps going; ``apply`` records the relays' receipts in the outbox in
batches and tells the dispatcher's listeners (the composer, the panel, ``quarterdeck send``);
``sent`` keeps what is in flight and how long each relay has been there to answer (``relay_wait``);
``outage`` is the broker unreachable: sends stay queued with the reason shown and go when it
answers. The session (``quarterdeck.core.session``) wires a forwarder in as a companion of the
dispatcher, which skips relay agents itself.
"""
from quarterdeck.core.captain.forward import Forwarder

__all__ = ["Forwarder"]
