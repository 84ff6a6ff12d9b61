"""The compile stage: a validated spec becomes the exact request for one target."""

from __future__ import annotations

from pathlib import Path

from batchspec.compile.fingerprint import fingerprint, fingerprint_label
from batchspec.compile.local import local_body
from batchspec.model.enums import Target
from batchspec.model.jobs import (
    LABEL_FINGERPRINT,
    LABEL_JOB,
    LABEL_MANAGED_BY,
    MANAGED_BY_VALUE,
    CompiledJob,
)
from batchspec.model.spec import BatchPredictionJobSpec


def managed_labels(name: str, fp: str) -> dict[str, str]:
    """The labels batchspec puts on every job it submits."""
    return {
        LABEL_MANAGED_BY: MANAGED_BY_VALUE,
        LABEL_JOB: name.lower()[:63],
        LABEL_FINGERPRINT: fingerprint_label(fp),
    }


def compile_spec(
    doc: BatchPredictionJobSpec, *, target: Target | None = None, source: Path | None = None
) -> CompiledJob:
    """Compile `doc` for `target` (default: the spec's own target)."""
    target = target or doc.spec.target
    if target not in (Target.LOCAL, Target.RAY):
        raise NotImplementedError(f"compiling for {target.value} is not implemented yet")
    body = local_body(doc)
    fp = fingerprint(target.value, body)
    labels = {**doc.metadata.labels, **managed_labels(doc.metadata.name, fp)}
    return CompiledJob(
        name=doc.metadata.name,
        target=target,
        body=body,
        fingerprint=fp,
        spec=doc,
        labels=labels,
        source=source,
    )


__all__ = ["compile_spec", "fingerprint", "managed_labels"]
