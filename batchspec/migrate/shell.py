"""Just enough shell to read the scripts people wrote around gcloud.

Cloud ML Engine's documented example sets variables first and then runs
`gcloud ml-engine jobs submit prediction $JOB_NAME --model $MODEL_NAME ...`.
This module joins `\\` continuations, drops comments, records simple
assignments (`NAME=value`, `export NAME=value`) and expands `$NAME` and
`${NAME}` outside single quotes. It never runs anything: a value made by a
command (`$(date ...)`, backticks) is reported, and the user passes it with
`--set NAME=VALUE`.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field

from batchspec.migrate.fields import Problem

_ASSIGNMENT = re.compile(r"^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$", re.DOTALL)
_VARIABLE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")
UNKNOWN = object()
# A real gcloud command line is a few hundred characters. Scripts that double
# a variable on every line (`B=$A$A`, `C=$B$B`...) grow exponentially; past
# this size expansion stops with an error instead of eating memory for hours.
MAX_EXPANDED = 1 << 16


@dataclass(frozen=True)
class _Broken:
    """A variable whose value could not be worked out, and why."""

    problem: Problem


@dataclass(frozen=True)
class Command:
    """One command of a script, unexpanded, with the variables set before it."""

    line: int
    text: str
    variables: Mapping[str, object]


@dataclass
class Script:
    """The commands of a script, in order."""

    commands: list[Command] = field(default_factory=list)


def logical_lines(text: str) -> list[tuple[int, str]]:
    """Lines with `\\`-newline continuations joined, numbered from 1."""
    out: list[tuple[int, str]] = []
    current, start = "", 0
    for number, line in enumerate(text.splitlines(), start=1):
        if not current:
            start = number
        if line.rstrip().endswith("\\") and not line.rstrip().endswith("\\\\"):
            current += line.rstrip()[:-1] + " "
            continue
        current += line
        out.append((start, current))
        current = ""
    if current:
        out.append((start, current))
    return out


def read_script(text: str, variables: Mapping[str, str] | None = None) -> Script:
    """Tokenise every command line, expanding variables set earlier."""
    known: dict[str, object] = dict(variables or {})
    script = Script()
    for number, line in logical_lines(text):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        for part in _split_commands(stripped):
            _statement(part, number, known, variables or {}, script)
    return script


def _split_commands(line: str) -> list[str]:
    """Split on `;` and `&&` outside quotes (enough for one-liners)."""
    parts, current, quote, i = [], "", "", 0
    while i < len(line):
        ch = line[i]
        if quote:
            current += ch
            if ch == quote:
                quote = ""
            elif ch == "\\" and quote == '"' and i + 1 < len(line):
                current += line[i + 1]
                i += 1
        elif ch in "'\"":
            quote = ch
            current += ch
        elif ch == ";" or line.startswith("&&", i):
            parts.append(current)
            current = ""
            i += 1 if ch == "&" else 0
        else:
            current += ch
        i += 1
    parts.append(current)
    return [p.strip() for p in parts if p.strip()]


def _statement(
    text: str,
    number: int,
    known: dict[str, object],
    given: Mapping[str, str],
    script: Script,
) -> None:
    assignment = _ASSIGNMENT.match(text)
    if assignment and _assign(assignment.group(1), assignment.group(2), number, known, given):
        return
    script.commands.append(Command(number, text, dict(known)))


def words_of(command: Command) -> tuple[list[str], list[Problem]]:
    """The command's words after variable expansion, or the problems in the way."""
    expanded, problems = expand(command.text, command.variables, command.line)
    if problems:
        return [], problems
    try:
        return shlex.split(expanded, comments=True), []
    except ValueError as exc:
        return [], [Problem(f"line {command.line}", f"cannot split the command: {exc}")]


def _assign(
    name: str, raw: str, number: int, known: dict[str, object], given: Mapping[str, str]
) -> bool:
    """Record `name=raw`; False when the line is a command with an env prefix."""
    raw = raw.strip()
    if "$(" in raw or "`" in raw:
        if name not in given:
            known[name] = UNKNOWN  # made by a command batchspec does not run
        return True
    expanded, problems = expand(raw, known, number)
    try:
        words = shlex.split(expanded, comments=True) if not problems else []
    except ValueError:
        words, problems = [], [Problem(f"line {number}", "unbalanced quotes")]
    if len(words) > 1:
        return False
    if name not in given:  # --set wins over the script
        known[name] = _Broken(problems[0]) if problems else (words[0] if words else "")
    return True


def expand(text: str, known: Mapping[str, object], number: int) -> tuple[str, list[Problem]]:
    """Expand `$NAME`/`${NAME}` outside single quotes; report what cannot be."""
    problems: list[Problem] = []
    out, i, single, double = "", 0, False, False
    while i < len(text):
        ch = text[i]
        if ch == "'" and not double:
            single = not single
        elif ch == '"' and not single:
            double = not double
        elif ch == "\\" and not single and i + 1 < len(text):
            out += text[i : i + 2]
            i += 2
            continue
        elif ch == "$" and not single:
            if text.startswith("$(", i):
                problems.append(
                    Problem(
                        f"line {number}",
                        "command substitution `$(...)` is not run by batchspec import",
                        "put the value in the command or pass --set NAME=VALUE",
                    )
                )
                return text, problems
            found = _VARIABLE.match(text, i)
            if found:
                name = found.group(1) or found.group(2)
                value = known.get(name)
                if isinstance(value, _Broken):
                    problems.append(value.problem)
                    out += found.group(0)
                elif value is None or value is UNKNOWN:
                    why = (
                        "is set by a command batchspec does not run"
                        if value is UNKNOWN
                        else "is not set"
                    )
                    problems.append(
                        Problem(f"line {number}", f"${name} {why}", f"pass --set {name}=VALUE")
                    )
                    out += found.group(0)
                else:
                    out += _quoted(str(value), double)
                    if len(out) > MAX_EXPANDED:
                        problems.append(_too_long(number, name))
                        return text, problems
                i = found.end()
                continue
        elif ch == "`" and not single:
            problems.append(
                Problem(
                    f"line {number}",
                    "command substitution with backticks is not run by batchspec import",
                    "put the value in the command or pass --set NAME=VALUE",
                )
            )
            return text, problems
        out += ch
        i += 1
    return out, problems


def _too_long(number: int, name: str) -> Problem:
    return Problem(
        f"line {number}",
        f"expanding ${name} makes the line longer than {MAX_EXPANDED:,} characters",
        f"pass the value with --set {name}=VALUE",
    )


def _quoted(value: str, in_double_quotes: bool) -> str:
    if in_double_quotes:
        return re.sub(r'(["\\$`])', r"\\\1", value)
    return shlex.quote(value)
