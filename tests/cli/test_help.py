"""`--help` ends with real examples (each parsed by the real parser, the safe
ones run in an init project), mistakes get a did-you-mean, `--version`."""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

import pytest

from batchspec import __version__
from batchspec.cli.main import COMMANDS, build_parser, main

# Commands whose examples change nothing outside the project folder and need
# no cloud: run for real. The others are parsed only.
SAFE = {"validate", "schema", "render", "plan", "status", "history", "completion", "init"}
SHELL = re.compile(r"[<>|$]|\$\(")


CALL = re.compile(r"(?:^|&&|\$\(|<\()\s*batchspec\s+([^)&>|]*)")


def invocations(command_line: str) -> list[list[str]]:
    """The batchspec calls in an example: `a && b` gives two, and calls
    inside `$(...)` or `<(...)` count."""
    return [shlex.split(m.group(1)) for m in CALL.finditer(command_line)]


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_help_ends_with_two_or_three_examples(name: str, capsys) -> None:
    examples = COMMANDS[name].examples
    assert 2 <= len(examples) <= 3
    assert main([name, "--help"]) == 0
    help_text = capsys.readouterr().out
    tail = help_text[help_text.index("\nexamples:\n") :]
    for command_line, what in examples:
        assert f"  {command_line}\n      {what}" in tail
    assert help_text.rstrip().endswith(examples[-1][1])


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_examples_parse_with_the_real_parser(name: str) -> None:
    parser = build_parser()
    for command_line, _what in COMMANDS[name].examples:
        calls = invocations(command_line)
        assert calls, command_line
        for argv in calls:
            args = parser.parse_args(argv)
            assert args.command == argv[0]


def test_safe_examples_run(project: Path, capsys) -> None:
    ran = 0
    for name in sorted(SAFE):
        for command_line, _what in COMMANDS[name].examples:
            if SHELL.search(command_line) or "&&" in command_line or "--refresh" in command_line:
                continue  # shell plumbing, or the cloud
            (argv,) = invocations(command_line)
            if argv[0] == "init":
                argv = [*argv, "elsewhere"] if len(argv) == 1 else argv
            assert main(argv) in (0, 2), command_line  # plan: 2 = changes
            ran += 1
    capsys.readouterr()
    assert ran >= 10


def test_mistyped_command_suggests_the_closest(capsys) -> None:
    assert main(["aply"]) == 1
    err = capsys.readouterr().err
    assert "unknown command 'aply'" in err and "did you mean `apply`?" in err


def test_mistyped_choice_and_option_suggest(capsys) -> None:
    assert main(["plan", "-o", "jsn"]) == 1
    assert "did you mean `json`?" in capsys.readouterr().err
    assert main(["apply", "--dryrun"]) == 1
    err = capsys.readouterr().err
    assert "usage: batchspec apply" in err and "did you mean `--dry-run`?" in err


def test_version_and_bare_command(capsys) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"batchspec {__version__}"
    assert main([]) == 1
    assert "COMMAND" in capsys.readouterr().err


def test_no_color_before_or_after_the_command() -> None:
    assert build_parser().parse_args(["--no-color", "status"]).no_color is True
    assert build_parser().parse_args(["status", "--no-color"]).no_color is True
    assert build_parser().parse_args(["status"]).no_color is False


@pytest.mark.parametrize(("columns", "width"), [("60", 60), ("0", 80), ("wide", 80)])
def test_help_fits_the_terminal_width(columns: str, width: int, monkeypatch, capsys) -> None:
    """$COLUMNS sets the width, as argparse's own default would (stdout here is
    no terminal, so anything else means 80): the width is read without shutil."""
    monkeypatch.setenv("COLUMNS", columns)
    monkeypatch.setattr(os, "get_terminal_size", no_terminal)
    assert main(["plan", "--help"]) == 0
    options = capsys.readouterr().out.split("\noptions:\n")[1].split("\nexamples:\n")[0]
    lines = options.splitlines()
    assert max(map(len, lines)) <= width - 2
    assert max(map(len, lines)) > width - 20  # the help text is refilled to it


def no_terminal(fd: int = 1) -> os.terminal_size:
    raise OSError(25, "Inappropriate ioctl for device")
