"""Asking a person before acting, the way terraform and pulumi do.

The question is asked only when a person can answer it: stdin is a terminal
and `--yes` was not given. Scripts and CI (no terminal on stdin) are never
blocked waiting for an answer; they already chose to act by running the
command.
"""

from __future__ import annotations

import sys

ACCEPTED = {"yes", "y"}


def stdin_is_terminal() -> bool:
    """True when a person can type an answer."""
    isatty = getattr(sys.stdin, "isatty", None)
    return bool(isatty and isatty())


def will_ask(*, yes: bool) -> bool:
    """Whether `confirm` would ask (no --yes, a terminal on stdin)."""
    return not yes and stdin_is_terminal()


def confirm(question: str, *, yes: bool) -> bool:
    """True to go ahead: `--yes`, no terminal, or a typed `yes`."""
    if not will_ask(yes=yes):
        return True
    print(f"\n{question}\n  Only 'yes' will be accepted to approve.\n", file=sys.stderr)
    print("  Enter a value: ", end="", file=sys.stderr, flush=True)
    answer = sys.stdin.readline()
    if not answer:  # end of input
        print(file=sys.stderr)
        return False
    return answer.strip().lower() in ACCEPTED
