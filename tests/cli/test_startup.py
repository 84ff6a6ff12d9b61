"""`batchspec --help` and validating one spec stay light: no cloud, Pulumi,
Ray or model libraries imported."""

from __future__ import annotations

import json
import subprocess
import sys

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


def test_validate_imports_nothing_heavy() -> None:
    assert heavy(imported("validate", str(SPECS / "catalogue_vertex.yaml"))) == set()
