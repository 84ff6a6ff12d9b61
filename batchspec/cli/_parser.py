"""The argument parser every command shares: usage errors exit 1, a mistyped
command or choice suggests the closest one, `--help` ends with examples.

Why not argparse's defaults: argparse exits 2 on a usage error, and 2 is
batchspec's "changes present" code for `plan` and `drift` (read by the
GitHub workflow like `terraform plan -detailed-exitcode`): a typo in a flag
must never look like a plan with changes. Each command's entry in the
command tables lists its examples; `attach` puts them at the end of its
`--help`, and a test runs or parses every one of them.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable, Sequence
from typing import NoReturn

from batchspec.patterns import lazy

EXIT_USAGE = 1

Example = tuple[str, str]  # (command line, what it does)

_INVALID_CHOICE = lazy(r"invalid choice: '([^']*)' \(choose from (.*)\)")


def closest(word: str, options: Iterable[str]) -> str | None:
    """The option `word` was most likely meant to be, if any is close."""
    import difflib  # only for a mistyped word: not imported by every start-up

    found = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return found[0] if found else None


class Formatter(argparse.HelpFormatter):
    """argparse's layout, with the terminal's width read here: argparse
    builds a formatter for every argument it adds, and its own default
    imports shutil (with bz2, lzma and zlib) for the width, 3 % of the
    instructions of `validate`'s start-up."""

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        # argparse's default is the terminal's width less 2
        super().__init__(prog, indent_increment, max_help_position, width or terminal_columns() - 2)


class HelpFormatter(argparse.RawDescriptionHelpFormatter, Formatter):
    """A command's layout: keeps the examples' lines (argparse would refill
    them as prose)."""


def terminal_columns() -> int:
    """The terminal's width as `shutil.get_terminal_size()` gives it: $COLUMNS,
    else the width of the terminal on stdout, else 80."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns if columns > 0 else 80


class Parser(argparse.ArgumentParser):
    """argparse with exit code 1 for usage errors and did-you-mean hints."""

    def error(self, message: str) -> NoReturn:
        hint = None
        match = _INVALID_CHOICE.search(message)
        if match:
            options = [o.strip().strip("'") for o in match.group(2).split(",")]
            guess = closest(match.group(1), options)
            if guess:
                hint = f"did you mean `{guess}`?"
        self.print_usage(sys.stderr)
        text = f"{self.prog}: error: {message}\n"
        if hint:
            text += f"  hint: {hint}\n"
        self.exit(EXIT_USAGE, text)


def examples_text(examples: Sequence[Example]) -> str:
    """The `examples:` block at the end of a command's --help."""
    lines = ["examples:"]
    for command, what in examples:
        lines.append(f"  {command}")
        lines.append(f"      {what}")
    return "\n".join(lines)


def attach(parser: argparse.ArgumentParser, examples: Sequence[Example]) -> None:
    """Give a command's parser the shared behaviour: examples, `--no-color`
    after the command name too (its layout, `HelpFormatter`, it gets where it
    is made: `batchspec.cli._surface.add_command`)."""
    if examples:
        parser.epilog = examples_text(examples)
    add_no_color(parser, sub=True)


def add_no_color(parser: argparse.ArgumentParser, *, sub: bool = False) -> None:
    """`--no-color`, before or after the command name (the sub-command's copy
    must not reset the top-level one, hence SUPPRESS)."""
    parser.add_argument(
        "--no-color",
        action="store_true",
        default=argparse.SUPPRESS if sub else False,
        help="no colour (also when NO_COLOR is set, or output is not a terminal)",
    )


def unknown_command(word: str, commands: Iterable[str]) -> str:
    """The message for `batchspec WORD` when WORD is no command."""
    message = f"batchspec: error: unknown command {word!r}"
    guess = closest(word, commands)
    if guess:
        message += f"\n  hint: did you mean `{guess}`? (`batchspec --help` lists every command)"
    else:
        message += "\n  hint: `batchspec --help` lists every command"
    return message


def unrecognized(
    parser: argparse.ArgumentParser, command: str | None, extra: list[str]
) -> NoReturn:
    """Report arguments no parser took, with the command's own usage and the
    option that was probably meant."""
    target = parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and command in action.choices:
            target = action.choices[command]
    message = f"unrecognized arguments: {' '.join(extra)}"
    first = next((e for e in extra if e.startswith("--")), None)
    if first is not None:
        options = [o for a in target._actions for o in a.option_strings if o.startswith("--")]
        guess = closest(first.split("=", 1)[0], options)
        if guess:
            message += f"\n  hint: did you mean `{guess}`?"
    target.error(message)
