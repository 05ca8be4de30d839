"""Delivery into a GUI chat pane by click and paste, and what proves it arrived.

``transport`` is the delivery; ``windows`` makes sure of the agent's own window, ``guard`` and
``keyboard`` notice a person at the desk, ``screenlock`` keeps one GUI delivery at a time across
processes, ``evidence``/``pixels``/``verdict`` read the input back, ``check`` says whether an
agent's points can be clicked now, and ``desk_return`` gives the captain's focus and pointer back.
"""
