"""`batchspec --help` and validating one spec stay light: no cloud, Pulumi,
Ray or model libraries imported; validating one spec also skips what only
other commands, large trees or broken files need (the time is measured in
bench/validate_bench.py, as a ratio to `python -c pass`)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import SPECS

HEAVY = (
    "pulumi",
    "google.cloud.aiplatform",
    "google.genai",
    "google.auth",
    "googleapiclient",
    "gcsfs",
    "ray",
    "sklearn",
    "onnxruntime",
    "vaderSentiment",
    "rich",
)

PROBE = """
import sys
from batchspec.cli.main import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print("MODULES=" + __import__("json").dumps(sorted(sys.modules)))
"""


def imported(*args: str) -> set[str]:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, check=False
    )
    line = next(x for x in proc.stdout.splitlines() if x.startswith("MODULES="))
    return set(json.loads(line.removeprefix("MODULES=")))


def heavy(modules: set[str]) -> set[str]:
    return {m for m in modules for h in HEAVY if m == h or m.startswith(h + ".")}


def test_probe_sees_heavy_imports() -> None:
    assert heavy({"google.cloud.aiplatform.jobs", "rich", "json"}) == {
        "google.cloud.aiplatform.jobs",
        "rich",
    }


def test_help_imports_nothing_heavy() -> None:
    assert heavy(imported("--help")) == set()


def test_help_imports_no_command_module() -> None:
    """The commands' surface is data (cli/_commands_*): `--help` needs none of their code."""
    from batchspec.cli.main import COMMANDS

    assert {c.module for c in COMMANDS.values()} & imported("--help") == set()


# Needed by `validate` only for a large tree (worker processes), a file with
# a problem (positions: PyYAML), a text the fast parser cannot vouch for
# (ruamel.yaml), or by other commands.
NOT_FOR_ONE_VALID_SPEC = (
    "pydantic",  # structure read as a view (batchspec.validate.fastlane)
    "jsonschema_rs",
    "pydantic_core",
    "multiprocessing",
    "concurrent.futures",
    "ruamel",
    "yaml",
    "jsonschema",
    # Python 3.11 compiles each dataclass's generated methods as it creates
    # the class (about 1 ms for a frozen one) and imports inspect for them:
    # records on this path are NamedTuples or plain classes.
    "dataclasses",
    "inspect",
    "copy",  # pruning a broken document only
    "difflib",  # a did-you-mean for a mistake only
    "shutil",  # argparse imports it for the terminal width (cli._parser.Formatter reads it)
    "sqlite3",
    "batchspec.state",
    "batchspec.compile",
    "batchspec.cli._runtime",
    *(f"batchspec.cli.{name}" for name in ("apply", "plan", "render", "run", "reconcile")),
)


def test_validate_imports_nothing_heavy() -> None:
    modules = imported("validate", str(SPECS / "catalogue_vertex.yaml"))
    assert heavy(modules) == set()
    unneeded = {
        m for m in modules for n in NOT_FOR_ONE_VALID_SPEC if m == n or m.startswith(n + ".")
    }
    assert unneeded == set()


def test_validate_of_a_broken_spec_needs_no_ruamel(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text((SPECS / "catalogue_vertex.yaml").read_text().replace("us-central1", "mars"))
    modules = imported("validate", str(path))
    assert "yaml" in modules  # positions from libyaml
    assert not any(m == "ruamel" or m.startswith("ruamel.") for m in modules)
