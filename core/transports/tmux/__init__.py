"""Delivery into a tmux pane: paste once, see the text in the input, submit, see it leave.

``transport`` is the delivery, ``client`` the tmux commands, ``profiles`` how each agent CLI wants
its message submitted, ``submit`` the submit-and-check steps, ``verdict`` reads the pane and
``tty`` asks the kernel about the pane's terminal.
"""
