"""The one error a channel or the server raises when it cannot start; `cxbot serve` prints it."""


class CannotStart(Exception):
    """Something needed to serve cannot be used; the message says what and which setting to check."""
