"""Every compiled body is a request Google's own API description accepts.

Two independent oracles: the discovery documents shipped in
google-api-python-client (converted to JSON Schema) for every cloud target,
and, for Vertex AI, the protobuf types of google-cloud-aiplatform (the JSON
parser the client library itself uses), which also refuses unknown fields,
enum values and numbers beyond int32. Both run for every example spec, every
golden body and every generated spec; `test_validate_agrees` runs them for
every case of the rule tables, and `test_genai_sdk` sends every genai call
through the real google-genai client.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from batchspec.compile import compile_spec, request_fingerprint, strip_identity
from batchspec.compile.conformance import conformance_diagnostics, conformance_problems
from batchspec.compile.wire import wire_request
from batchspec.errors import CompileError
from batchspec.model.enums import CLOUD_TARGETS, Target
from batchspec.model.jobs import CompiledJob
from batchspec.validate import validate_paths
from tests.compile.strategies import (
    genai_documents,
    mlengine_documents,
    reversed_keys,
    valid_spec,
    vertex_documents,
)
from tests.conftest import REPO, SPECS

PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def example_jobs() -> list[tuple[str, Target, CompiledJob]]:
    out = []
    for loaded in validate_paths([str(SPECS)]).specs:
        for target in Target:
            try:
                job = compile_spec(loaded.spec, target=target, env={})
            except CompileError:
                continue
            out.append((loaded.name, target, job))
    return out


EXAMPLES = example_jobs()


def test_every_example_compiles_for_its_own_target_and_every_cloud_target_is_covered() -> None:
    compiled = {(name, target) for name, target, _ in EXAMPLES}
    for loaded in validate_paths([str(SPECS)]).specs:
        assert (loaded.name, loaded.spec.spec.target) in compiled
    assert {target for _, target, _ in EXAMPLES} >= CLOUD_TARGETS


@pytest.mark.parametrize(
    "job", [j for _, _, j in EXAMPLES], ids=[f"{n}-{t.value}" for n, t, _ in EXAMPLES]
)
def test_example_bodies_pass_the_discovery_schema(job: CompiledJob) -> None:
    assert [str(p) for p in conformance_problems(job)] == []
    if job.target is Target.VERTEX:
        parse_with_aiplatform_protos(job.body)


def parse_with_aiplatform_protos(body: Any) -> None:
    from google.cloud.aiplatform_v1.types import BatchPredictionJob
    from google.protobuf import json_format

    json_format.ParseDict(body, BatchPredictionJob.pb()(), ignore_unknown_fields=False)


GOLDEN_VERTEX = sorted((REPO / "tests" / "golden").glob("*/*.vertex.json"))


def test_there_are_golden_vertex_bodies() -> None:
    assert len(GOLDEN_VERTEX) >= 3


@pytest.mark.parametrize("path", GOLDEN_VERTEX, ids=[p.stem for p in GOLDEN_VERTEX])
def test_golden_vertex_bodies_parse_with_aiplatform_protos(path: Any) -> None:
    import json

    parse_with_aiplatform_protos(json.loads(path.read_text())["body"])


def test_the_protos_refuse_int32_overflow_and_bad_enums() -> None:
    from google.protobuf.json_format import ParseError

    job = next(j for _, t, j in EXAMPLES if t is Target.VERTEX and "dedicatedResources" in j.body)
    for path, value in (
        (("dedicatedResources", "startingReplicaCount"), 2**31),
        (("manualBatchTuningParameters", "batchSize"), 2**31),
        (("dedicatedResources", "machineSpec", "acceleratorType"), "NVIDIA_TESLA_T5"),
    ):
        broken = copy.deepcopy(dict(job.body))
        node = broken
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
        with pytest.raises(ParseError):
            parse_with_aiplatform_protos(broken)


def test_the_check_fails_on_a_broken_body() -> None:
    job = next(j for _, t, j in EXAMPLES if t is Target.VERTEX)
    broken = copy.deepcopy(dict(job.body))
    broken["dedicatedResources"]["machineSpec"]["acceleratorType"] = "NVIDIA_TESLA_T5"
    broken["inputConfig"]["gcsSource"]["uri"] = "gs://typo"
    bad = dataclasses.replace(job, body=broken)
    messages = [d.message for d in conformance_diagnostics(bad)]
    assert any("acceleratorType" in m for m in messages)
    assert any("unknown field `uri`" in m for m in messages)
    from google.protobuf.json_format import ParseError

    with pytest.raises(ParseError):
        parse_with_aiplatform_protos(broken)


def test_wrong_parent_is_caught() -> None:
    job = next(j for _, t, j in EXAMPLES if t is Target.MLENGINE)
    bad = dataclasses.replace(job, parent="projects/")
    assert conformance_problems(bad)


def test_genai_wire_body_is_what_vertex_v1beta1_accepts() -> None:
    job = next(j for _, t, j in EXAMPLES if t is Target.GENAI)
    wire = wire_request(job)
    assert wire is not None and wire.version == "v1beta1"
    assert wire.body["displayName"] == job.name
    assert wire.body["labels"]["batchspec-fp"] == job.fingerprint[:63]


def check_generated(data: dict[str, Any]) -> CompiledJob:
    spec = valid_spec(data)
    job = compile_spec(spec, env={})
    assert [str(p) for p in conformance_problems(job)] == []
    again = compile_spec(valid_spec(reversed_keys(data)), env={})
    assert again.fingerprint == job.fingerprint and again.body == job.body
    assert request_fingerprint(job.target, job.body, name=spec.name) == job.fingerprint
    assert strip_identity(job.target, job.body, name=spec.name) != job.body
    return job


@PROPERTY
@given(vertex_documents())
def test_generated_vertex_specs_conform(data: dict[str, Any]) -> None:
    job = check_generated(data)
    parse_with_aiplatform_protos(job.body)


@PROPERTY
@given(mlengine_documents())
def test_generated_mlengine_specs_conform(data: dict[str, Any]) -> None:
    job = check_generated(data)
    assert len(job.body["jobId"]) <= 128


@PROPERTY
@given(genai_documents())
def test_generated_genai_specs_conform(data: dict[str, Any]) -> None:
    from google.genai import types

    job = check_generated(data)
    types.CreateBatchJobConfig.model_validate(job.body["config"])
    if isinstance(job.body["src"], dict):
        types.BatchJobSource.model_validate(job.body["src"])
