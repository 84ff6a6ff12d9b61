"""The cloud modules import no Google client library until a backend makes a
client: `batchspec validate`, `render` and the controller's planning stay light."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.cli.test_startup import heavy

MODULES = [
    "batchspec.retry",
    "batchspec.backends.google_errors",
    "batchspec.backends.cloud",
    "batchspec.backends.vertex",
    "batchspec.backends.genai",
    "batchspec.backends.mlengine",
    "batchspec.io.storage",
    "batchspec.io.bigquery",
    "batchspec.results",
    # The local engine with bq:// and gs:// locations (its job, plan and stores).
    "batchspec.engine.job",
    "batchspec.engine.plan",
    "batchspec.engine.tables",
    "batchspec.engine.supervisor",
    "batchspec.backends.local",
]

PROBE = """
import importlib, json, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
from batchspec.backends.vertex import VertexBackend
from batchspec.backends.genai import GenaiBackend
from batchspec.backends.mlengine import MLEngineBackend
VertexBackend("p", "r"); GenaiBackend("p", "r"); MLEngineBackend("p", "r")
print("MODULES=" + json.dumps(sorted(sys.modules)))
"""


def test_importing_and_constructing_backends_loads_no_client_library() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *MODULES], capture_output=True, text=True, check=True
    )
    line = next(x for x in proc.stdout.splitlines() if x.startswith("MODULES="))
    loaded = set(json.loads(line.removeprefix("MODULES=")))
    assert heavy(loaded) == set()
    # (`google` and `google.cloud` are namespace packages a .pth file loads at start)
    assert not {m for m in loaded if m.startswith(("google.cloud.", "google.api_core"))}
