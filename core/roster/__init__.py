"""The agent roster (``agents.yaml``): which agents exist and how each is reached.

``roster`` loads and saves it, ``parse`` checks it with every problem located (``problems``),
``edit`` changes it from a form, ``capture`` records a point and its window, ``importing`` takes
changes from outside, ``check`` says whether each agent can be reached now and ``status`` is each
agent's live status from real events.
"""
