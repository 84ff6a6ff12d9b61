"""Local specs for controller tests: as documents, compiled jobs or YAML files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from batchspec.compile import compile_spec
from batchspec.model.jobs import CompiledJob
from batchspec.model.spec import BatchPredictionJobSpec


def spec_doc(
    name: str,
    *,
    batch_size: int = 64,
    max_retries: int = 0,
    backoff: float = 60.0,
    deadline: str | None = None,
    on_removal: str = "keep",
    key_field: str | None = "id",
) -> dict[str, Any]:
    """A valid local-target spec document."""
    policy: dict[str, Any] = {
        "maxRetries": max_retries,
        "retryBackoffSeconds": backoff,
        "onRemoval": on_removal,
    }
    if deadline:
        policy["deadline"] = deadline
    doc: dict[str, Any] = {
        "apiVersion": "batchspec.dev/v1",
        "kind": "BatchPredictionJob",
        "metadata": {"name": name, "labels": {"team": "tests"}},
        "spec": {
            "target": "local",
            "model": {"local": {"runner": "python", "callable": "tests.models:echo"}},
            "input": {"format": "JSONL", "paths": [f"data/{name}/in-*"]},
            "output": {"path": f"out/{name}", "overwrite": True},
            "resources": {"batchSize": batch_size, "maxWorkerCount": 1},
            "policy": policy,
        },
    }
    if key_field:
        doc["spec"]["input"]["keyField"] = key_field
    return doc


def compiled(name: str, *, source: Path | None = None, **options: Any) -> CompiledJob:
    """A compiled local job."""
    spec = BatchPredictionJobSpec.model_validate_json(json.dumps(spec_doc(name, **options)))
    return compile_spec(spec, source=source)


def write_specs(folder: Path, names: list[str], **options: Any) -> list[Path]:
    """One YAML file per job under `folder` (JSON is YAML)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in names:
        path = folder / f"{name}.yaml"
        path.write_text(json.dumps(spec_doc(name, **options), indent=2))
        paths.append(path)
    return paths
