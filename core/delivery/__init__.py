"""What a delivery is: the contract every transport keeps, and the errors and verdicts it ends in.

``contract``: a ``DeliveryRequest`` in, a ``Receipt`` (submitted or unverified) out, through a
``Transport``. ``errors``: retryable and permanent failures, stop-all, a person at the desk, and
the verdict errors that carry their evidence. Everything below the dispatcher speaks this.
"""
