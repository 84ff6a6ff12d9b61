"""The genai backend on the Gemini Developer API, through the real
`genai.Client(api_key=...)` against the Gemini double: the key comes from the
environment and travels only in its header, submission happens once, and
the batch is followed to its end."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from batchspec.backends.genai import GenaiBackend
from batchspec.compile import compile_spec
from batchspec.errors import PermanentBackendError
from batchspec.model.enums import JobState
from batchspec.model.jobs import LABEL_FINGERPRINT
from batchspec.testing.cloud.gemini import GeminiDouble
from tests.validate.cases import Case, diagnose
from tests.validate.helpers import DROP

KEY = "test-key-0123456789"


@pytest.fixture
def gemini() -> Iterator[GeminiDouble]:
    with GeminiDouble(page_size=2) as double:
        yield double
    assert double.rejected == []


def backend(double: GeminiDouble, env: dict[str, str], fast_retry: dict[str, Any]) -> GenaiBackend:
    return GenaiBackend(env=env, gemini_base_url=double.url + "/", timeout=5.0, **fast_retry)


def job_for(patch: dict[str, Any] | None = None, name: str = "reviews") -> Any:
    spec, found = diagnose(Case("gemini", "gemini", patch or {}, None, source="test"))
    assert spec is not None, found
    spec = spec.model_copy(update={"metadata": spec.metadata.model_copy(update={"name": name})})
    return compile_spec(spec, env={})


def test_submit_once_then_adopt_and_follow_to_the_end(
    gemini: GeminiDouble, fast_retry: dict[str, Any]
) -> None:
    genai = backend(gemini, {"GEMINI_API_KEY": KEY}, fast_retry)
    job = job_for()
    first = genai.submit(job)
    assert first.remote_name.startswith("batches/")
    assert first.fingerprint == job.labels[LABEL_FINGERPRINT]
    assert first.job_name == "reviews"
    again = genai.submit(job)
    assert again.remote_name == first.remote_name and len(gemini.creates) == 1
    [create] = gemini.creates
    assert create["batch"]["displayName"].startswith("reviews (batchspec-fp ")
    assert create["batch"]["inputConfig"]["requests"]["requests"][0]["request"]["contents"]
    states = [genai.get(first.remote_name).state for _ in range(3)]
    assert states[-1] is JobState.SUCCEEDED
    assert genai.outputs(first.remote_name) == []  # inline responses: no file
    genai.delete(first.remote_name)
    assert first.remote_name not in gemini.batches


def test_the_key_travels_in_the_header_only(
    gemini: GeminiDouble, fast_retry: dict[str, Any]
) -> None:
    genai = backend(gemini, {"MY_KEY": KEY}, fast_retry)
    job = job_for({"genai.apiKeyEnv": "MY_KEY"})
    assert KEY not in repr(job.body) and KEY not in repr(job.spec)
    genai.submit(job)
    assert set(gemini.keys) == {KEY}
    assert all(KEY not in p for p in gemini.paths)
    assert KEY not in repr(gemini.creates)


def test_a_missing_key_is_a_clear_error(gemini: GeminiDouble, fast_retry: dict[str, Any]) -> None:
    genai = backend(gemini, {}, fast_retry)
    with pytest.raises(PermanentBackendError) as caught:
        genai.submit(job_for({"genai.apiKeyEnv": "TEAM_GEMINI_KEY"}))
    assert "TEAM_GEMINI_KEY" in (caught.value.hint or "") and gemini.creates == []


def test_a_file_input_names_its_responses_file(
    gemini: GeminiDouble, fast_retry: dict[str, Any]
) -> None:
    genai = backend(gemini, {"GOOGLE_API_KEY": KEY}, fast_retry)
    remote = genai.submit(job_for({"input.requests": DROP, "input.fileName": "files/abc-123"}))
    while not genai.get(remote.remote_name).terminal:
        pass
    [responses] = genai.outputs(remote.remote_name)
    assert responses.startswith("files/") and responses.endswith("-responses")


def test_cancel_and_adoption_across_pages(gemini: GeminiDouble, fast_retry: dict[str, Any]) -> None:
    genai = backend(gemini, {"GEMINI_API_KEY": KEY}, fast_retry)
    others = [genai.submit(job_for(name=f"other_{i}")) for i in range(3)]
    target = genai.submit(job_for(name="wanted"))
    assert genai.submit(job_for(name="wanted")).remote_name == target.remote_name
    assert len({o.remote_name for o in others}) == 3 and len(gemini.creates) == 4
    assert genai.cancel(target.remote_name).state is JobState.CANCELLED


def test_a_reading_process_finds_the_key_variable_from_the_environment(
    gemini: GeminiDouble, fast_retry: dict[str, Any]
) -> None:
    env = {"MY_KEY": KEY}
    remote = backend(gemini, env, fast_retry).submit(job_for({"genai.apiKeyEnv": "MY_KEY"}))
    reader = backend(gemini, {**env, "BATCHSPEC_GEMINI_KEY_ENV": "MY_KEY"}, fast_retry)
    assert reader.get(remote.remote_name).remote_name == remote.remote_name
    with pytest.raises(PermanentBackendError):
        backend(gemini, env, fast_retry).get(remote.remote_name)  # GEMINI_API_KEY unset
