"""Check a compiled job against Google's own API schema (discovery documents).

Needs google-api-python-client (the `vertex` extra), which ships the
documents. Used by the tests for every example and generated spec, and by
`batchspec render --check`.
"""

from __future__ import annotations

from batchspec.compile.discovery import SchemaProblem, request_problems
from batchspec.compile.wire import upload_request, wire_request
from batchspec.diagnostics import Diagnostic
from batchspec.model.jobs import CompiledJob, CompiledModel


def conformance_problems(job: CompiledJob) -> list[SchemaProblem]:
    """Every way the job's REST request breaks its discovery schema; [] locally."""
    wire = wire_request(job)
    if wire is None:
        return []
    return request_problems(wire.api, wire.version, wire.method, wire.body, wire.params)


def conformance_diagnostics(job: CompiledJob) -> list[Diagnostic]:
    """The problems as BS304 diagnostics (a batchspec bug or a value the
    service's schema refuses, such as an unknown accelerator type)."""
    wire = wire_request(job)
    return [
        Diagnostic(
            "BS304",
            f"{job.target.value} request `{p.pointer}`: {p.message}",
            file=str(job.source) if job.source else None,
            hint=f"checked against {wire.api}.{wire.version} {wire.method}" if wire else None,
        )
        for p in conformance_problems(job)
    ]


def model_conformance_diagnostics(model: CompiledModel) -> list[Diagnostic]:
    """BS304 for a `models.upload` request that breaks its discovery schema."""
    wire = upload_request(model)
    problems = request_problems(wire.api, wire.version, wire.method, wire.body, wire.params)
    return [
        Diagnostic(
            "BS304",
            f"models.upload request `{p.pointer}`: {p.message}",
            file=str(model.source) if model.source else None,
            hint=f"checked against {wire.api}.{wire.version} {wire.method}",
        )
        for p in problems
    ]


__all__ = ["conformance_diagnostics", "conformance_problems", "model_conformance_diagnostics"]
