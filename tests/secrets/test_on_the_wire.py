"""Vertex AI receives the resolved value; everything batchspec keeps holds the
reference, and the fingerprint is the reference's."""

from __future__ import annotations

import pytest

from batchspec.compile import compile_spec
from batchspec.errors import PermanentBackendError

pytest.importorskip("google.cloud.aiplatform_v1")


def test_vertex_gets_the_value_the_body_keeps_the_reference(
    vertex,
    double,
    make_spec,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VENDOR_KEY", "vk-live-123")
    job = compile_spec(make_spec(modelParameters={"apiKey": "${env:VENDOR_KEY}", "t": 0.2}))
    vertex.submit(job)
    (create,) = double.create_calls()
    assert create.body["modelParameters"] == {"apiKey": "vk-live-123", "t": 0.2}
    assert job.body["modelParameters"]["apiKey"] == "${env:VENDOR_KEY}"
    monkeypatch.setenv("VENDOR_KEY", "vk-rotated")
    again = compile_spec(make_spec(modelParameters={"apiKey": "${env:VENDOR_KEY}", "t": 0.2}))
    assert again.fingerprint == job.fingerprint


def test_vertex_refuses_to_submit_without_the_variable(
    vertex,
    double,
    make_spec,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("VENDOR_KEY", raising=False)
    job = compile_spec(make_spec(modelParameters={"apiKey": "${env:VENDOR_KEY}"}))
    with pytest.raises(PermanentBackendError, match="VENDOR_KEY"):
        vertex.submit(job)
    assert double.create_calls() == []
