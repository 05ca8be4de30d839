"""Relays: one machine's local deliverer taking deliveries from a captain over Redis Streams (issue 14).

``protocol`` is the wire format both sides speak; ``link`` connects to the broker; ``relay`` is
the loop a ``quarterdeck relay`` process runs.
"""
