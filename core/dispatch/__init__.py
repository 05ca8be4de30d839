"""Dispatch: the loop that works the durable outbox, one delivery at a time.

The dispatcher claims the next delivery, hands it to the agent's transport under retry and the
agent's breaker, and records the outcome (``outcomes``). ``stopping``/``stopwatch`` are stop-all
and resume-all across processes, ``backoff`` keeps one agent's wait from holding up the others,
``signals`` ends a command promptly, and ``desk`` is the seam where the GUI transport takes and
gives back the captain's pointer and focus. The transports themselves are passed in.
"""
