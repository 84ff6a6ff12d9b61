"""Spec documents for tests and benchmarks: one builder, a valid base per target.

    spec_doc("scores", "vertex", input={"format": "CSV"})   a document (plain data)
    typed_spec(doc)                                          the typed spec, validated
    compile_doc(doc, target=..., env=...)                    its CompiledJob
    local_job("a", max_retries=2) / compiled("a", ...)       the small local job of
                                                             controller tests and bench/
    write_specs(folder, docs)                                one YAML file per job
    model_doc("reviews", container={...})                    a `kind: Model` document

Every document starts from `BASES[target]`, a spec that validates and
compiles for that target with no environment, and applies changes on top:

* a key is a field of the `spec:` block as written in YAML (`keyField`) or a
  dotted path into it (`"input.keyField"`);
* a value replaces what is there, except that with `merge=True` (the
  default) a mapping is applied key by key, so `input={"format": "CSV"}`
  keeps the base's paths;
* `DROP` (None) removes the key.

No pytest and no test-only imports: programs built on batchspec use this
in their own tests, and `bench/` uses it outside any test run.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from batchspec.model.enums import Target
from batchspec.model.jobs import CompiledJob
from batchspec.model.spec import BatchPredictionJobSpec

API_VERSION = "batchspec.dev/v1"
KIND = "BatchPredictionJob"
PROJECT = "proj-123456"
REGION = "us-central1"
DROP: None = None
"""The value that removes a key (None: a spec never needs an explicit null)."""

ECHO_MODEL = "tests.models:echo"
"""The callable of `local_job`: only backends that never run a model see it."""


def _cloud(target: str, model: dict[str, str], source: tuple[str, str]) -> dict[str, Any]:
    fmt, path = source
    return {
        "target": target,
        "project": PROJECT,
        "region": REGION,
        "model": model,
        "input": {"format": fmt, "paths": [path]},
        "output": {"path": "gs://bucket/out/"},
    }


_ENGINE: dict[str, Any] = {
    "model": {"local": {"runner": "python", "callable": "pkg.mod:predict"}},
    "input": {"format": "JSONL", "paths": ["data/*"]},
    "output": {"path": "out/"},
}

BASES: dict[str, dict[str, Any]] = {
    "local": {"target": "local", **_ENGINE},
    "ray": {"target": "ray", **_ENGINE},
    "vertex": _cloud(
        "vertex",
        {"resource": f"projects/{PROJECT}/locations/{REGION}/models/123"},
        ("JSONL", "gs://bucket/in/*"),
    ),
    "mlengine": _cloud("mlengine", {"name": "census"}, ("TEXT", "gs://bucket/in/*")),
    "genai": _cloud(
        "genai",
        {"publisher": "publishers/google/models/gemini-2.0-flash-001"},
        ("JSONL", "gs://bucket/in/requests.jsonl"),
    ),
}


def spec_doc(
    name: str = "scores",
    target: str | Target = "local",
    *layers: Mapping[str, Any],
    labels: Mapping[str, str] | None = None,
    merge: bool = True,
    **changes: Any,
) -> dict[str, Any]:
    """A spec document for `target`: its base, then each of `layers`, then
    `changes` (see the module docstring). `layers` are always merged; they
    let a test suite keep its own variant of a base in one place."""
    spec = copy.deepcopy(BASES[str(target)])
    for layer in layers:
        _apply(spec, layer, merge=True)
    _apply(spec, changes, merge=merge)
    metadata: dict[str, Any] = {"name": name}
    if labels is not None:
        metadata["labels"] = dict(labels)
    return {"apiVersion": API_VERSION, "kind": KIND, "metadata": metadata, "spec": spec}


def _apply(spec: dict[str, Any], changes: Mapping[str, Any], *, merge: bool) -> None:
    for key, value in changes.items():
        path = key.split(".")
        if merge and isinstance(value, Mapping) and value:
            _apply(spec, {f"{key}.{k}": v for k, v in value.items()}, merge=True)
        else:
            _set(spec, path, copy.deepcopy(value))


def _set(node: dict[str, Any], path: list[str], value: Any) -> None:
    *parents, last = path
    for part in parents:
        child = node.get(part)
        if not isinstance(child, dict):
            if value is DROP:
                return
            child = node[part] = {}
        node = child
    if value is DROP:
        node.pop(last, None)
    else:
        node[last] = value


def typed_spec(doc: Mapping[str, Any], *, rules: bool = True) -> BatchPredictionJobSpec:
    """The typed spec of `doc`, validated as a spec file would be (structure,
    then the rules unless `rules=False`); AssertionError naming every error,
    because a builder that made an invalid document is a bug in the test."""
    from batchspec.load.source import Document
    from batchspec.validate.validator import validate_document

    if not rules:
        return BatchPredictionJobSpec.model_validate_json(json.dumps(doc))
    spec, problems = validate_document(Document("<built>", 0, dict(doc), ""))
    errors = [(d.code, d.pointer, d.message) for d in problems if d.is_error]
    assert isinstance(spec, BatchPredictionJobSpec) and not errors, errors
    return spec


def compile_doc(
    doc: Mapping[str, Any],
    *,
    target: Target | None = None,
    source: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> CompiledJob:
    """`doc` validated and compiled (for its own target unless `target`)."""
    from batchspec.compile import compile_spec

    return compile_spec(typed_spec(doc, rules=False), target=target, source=source, env=env)


def local_job(
    name: str,
    *,
    model: str = ECHO_MODEL,
    paths: Iterable[str] | None = None,
    batch_size: int = 64,
    max_retries: int = 0,
    backoff: float = 60.0,
    deadline: str | None = None,
    on_removal: str = "keep",
    key_field: str | None = "id",
    **changes: Any,
) -> dict[str, Any]:
    """A small local job with its own input and output folders, labelled
    `team: tests`: the unit of the controller, plan and state tests and of
    `bench/controller_bench.py`. The keywords are the knobs they turn."""
    policy: dict[str, Any] = {
        "maxRetries": max_retries,
        "retryBackoffSeconds": backoff,
        "onRemoval": on_removal,
        "deadline": deadline,
    }
    return spec_doc(
        name,
        "local",
        {
            "model.local.callable": model,
            "input": {"paths": list(paths or [f"data/{name}/in-*"]), "keyField": key_field},
            "output": {"path": f"out/{name}", "overwrite": True},
            "resources": {"batchSize": batch_size, "maxWorkerCount": 1},
            "policy": policy,
        },
        labels={"team": "tests"},
        **changes,
    )


def model_doc(
    name: str = "reviews",
    *,
    labels: Mapping[str, str] | None = None,
    **changes: Any,
) -> dict[str, Any]:
    """A valid `kind: Model` document in `PROJECT`/`REGION` (an image, an
    artifact folder, a host command); `changes` replace keys of its `spec:`
    (DROP removes one)."""
    spec: dict[str, Any] = {
        "project": PROJECT,
        "region": REGION,
        "artifactUri": f"gs://bucket/models/{name}/",
        "container": {
            "imageUri": f"us-docker.pkg.dev/{PROJECT}/serving/{name}:1",
            "predictRoute": "/predict",
            "healthRoute": "/health",
        },
        "local": {"command": ["python", "server.py"]},
    }
    for key, value in changes.items():
        if value is DROP:
            spec.pop(key, None)
        else:
            spec[key] = value
    metadata: dict[str, Any] = {"name": name}
    if labels:
        metadata["labels"] = dict(labels)
    return {"apiVersion": API_VERSION, "kind": "Model", "metadata": metadata, "spec": spec}


def host_model_doc(
    command: list[str], name: str = "scorer", *, env: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """A `kind: Model` document whose image is never pulled: the local engine
    runs `command` on the host under the image's contract (`local.engine:
    host`); project and region come from the environment, as a job's do."""
    container = {"imageUri": "us-docker.pkg.dev/p/r/server:1", "env": dict(env or {"MODE": "ok"})}
    return model_doc(
        name,
        project=DROP,
        region=DROP,
        artifactUri=DROP,
        container=container,
        local={"engine": "host", "command": command},
    )


def compiled(name: str, *, source: Path | None = None, **options: Any) -> CompiledJob:
    """`local_job(name, **options)`, compiled."""
    return compile_doc(local_job(name, **options), source=source)


def write_specs(folder: Path, docs: Iterable[Mapping[str, Any]]) -> list[Path]:
    """Each document in its own `<job name>.yaml` under `folder` (JSON is YAML)."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for doc in docs:
        path = folder / f"{doc['metadata']['name']}.yaml"
        path.write_text(json.dumps(doc, indent=2))
        out.append(path)
    return out


__all__ = [
    "API_VERSION",
    "BASES",
    "DROP",
    "PROJECT",
    "REGION",
    "compile_doc",
    "compiled",
    "local_job",
    "model_doc",
    "spec_doc",
    "typed_spec",
    "write_specs",
]
