"""The front door: paths in, compiled jobs, failures and located diagnostics out."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import batchspec.compile.prepare as prepare_module
import batchspec.validate.validator as validator_module
from batchspec.compile import compile_paths
from batchspec.compile.paths import require_matches
from batchspec.errors import BatchspecError
from batchspec.model.enums import Target
from batchspec.plan.saved import job_from_dict, job_to_dict
from batchspec.testing.specs import spec_doc
from tests.conftest import SPECS


def write(folder: Path, *docs: dict[str, Any], name: str = "specs.yaml") -> Path:
    path = folder / name
    path.write_text("\n---\n".join(json.dumps(d) for d in docs))
    return path


@pytest.fixture
def rule_passes(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """How often the rules ran, by caller: the validator or compile's prepare."""
    passes: Counter[str] = Counter()
    callers = (
        (validator_module, "check_all", "validate"),  # the rules and the target's, in one pass
        (prepare_module, "check_rules", "compile"),
    )
    for module, entry, who in callers:
        original = getattr(module, entry)

        def counted(doc: Any, _original: Any = original, _who: str = who) -> Any:
            passes[_who] += 1
            return _original(doc)

        monkeypatch.setattr(module, entry, counted)
    yield passes


def test_rules_run_once_per_spec_for_its_own_target(rule_passes: Counter[str]) -> None:
    compiled = compile_paths([SPECS], env={})
    assert compiled.ok and len(compiled.jobs) == len(compiled.validation.specs) >= 5
    assert rule_passes == {"validate": len(compiled.jobs)}


def test_another_target_runs_the_rules_once_more_on_the_effective_spec(
    rule_passes: Counter[str],
) -> None:
    compiled = compile_paths([SPECS / "catalogue_vertex.yaml"], target=Target.LOCAL, env={})
    specs = len(compiled.validation.specs)
    assert rule_passes == {"validate": specs, "compile": specs}


def test_project_from_the_environment_is_judged_by_the_rules(
    tmp_path: Path, rule_passes: Counter[str]
) -> None:
    doc = spec_doc("scores", target="mlengine", project=None, region=None)
    path = write(tmp_path, doc)
    env = {"BATCHSPEC_PROJECT": "env-proj-1", "BATCHSPEC_REGION": "europe-west4"}
    compiled = compile_paths([path], env=env)
    [failure] = compiled.failures
    assert [d.code for d in failure.errors] == ["BS211"]
    assert "$BATCHSPEC_REGION" in failure.errors[0].message
    assert rule_passes == {"validate": 1, "compile": 1}


def test_compile_diagnostics_are_located_like_validation_ones(tmp_path: Path) -> None:
    # What a spec's own target refuses is validate's to say; what depends on
    # the environment (a project from $BATCHSPEC_PROJECT) is compile's.
    doc = spec_doc("scores", "vertex", project=None)
    path = write(tmp_path, spec_doc("first"), doc)
    compiled = compile_paths([path], env={})
    [failure] = compiled.failures
    [error] = failure.errors
    assert (error.code, error.file, error.document) == ("BS261", str(path), 1)
    assert error.line is not None and error.line > 1
    assert error in compiled.diagnostics and not compiled.ok
    assert [j.name for j in compiled.jobs] == ["first"]


def test_select_and_targets_narrow_what_compiles(tmp_path: Path) -> None:
    docs = [spec_doc("a_one"), spec_doc("a_two", target="vertex"), spec_doc("b_one")]
    path = write(tmp_path, *docs)
    compiled = compile_paths([path], select=["a_*"], targets=["local"], env={})
    assert [j.name for j in compiled.jobs] == ["a_one"]
    assert sorted(s.name for s in compiled.skipped) == ["a_two", "b_one"]
    assert compile_paths([path], targets=["tpu"]).jobs == []


def test_an_invalid_file_blocks_only_itself_unless_asked_to_stop(tmp_path: Path) -> None:
    good = write(tmp_path, spec_doc("good"), name="good.yaml")
    bad_doc = spec_doc("bad")
    bad_doc["spec"]["outputt"] = {}
    bad = write(tmp_path, bad_doc, name="bad.yaml")
    going = compile_paths([tmp_path])
    assert [j.name for j in going.jobs] == ["good"]
    assert going.invalid_files == frozenset({bad}) and good not in going.invalid_files
    stopped = compile_paths([tmp_path], keep_going=False)
    assert stopped.jobs == [] and not stopped.validation.ok


def test_target_can_be_chosen_per_spec_or_by_name(tmp_path: Path) -> None:
    path = write(tmp_path, spec_doc("a"), spec_doc("b"))
    compiled = compile_paths(
        [path], target=lambda loaded: Target.RAY if loaded.name == "b" else Target.LOCAL
    )
    assert [(j.name, j.target) for j in compiled.jobs] == [("a", Target.LOCAL), ("b", Target.RAY)]
    assert {j.target for j in compile_paths([path], target="ray").jobs} == {Target.RAY}
    with pytest.raises(BatchspecError, match="unknown target 'tpu'"):
        compile_paths([path], target="tpu")


def test_a_name_nobody_declares_is_an_error_with_a_guess(tmp_path: Path) -> None:
    compiled = compile_paths([write(tmp_path, spec_doc("scores_daily"))])
    require_matches(compiled.validation, ["scores_*"], "here")
    with pytest.raises(BatchspecError, match="here has no job named 'scores_dialy'") as info:
        require_matches(compiled.validation, ["scores_dialy"], "here")
    assert info.value.hint == "did you mean `scores_daily`?"


def test_the_effective_spec_is_settled_for_the_target(tmp_path: Path) -> None:
    doc = spec_doc("scores", target="vertex", project=None, region=None)
    env = {"BATCHSPEC_PROJECT": "env-proj-1", "BATCHSPEC_REGION": "us-central1"}
    [job] = compile_paths([write(tmp_path, doc)], env=env).jobs
    assert (job.effective.project, job.effective.region) == ("env-proj-1", "us-central1")
    assert job.spec.spec.project is None  # the document as written is kept as written
    assert job.effective.policy == job.spec.spec.policy
    again = job_from_dict(json.loads(json.dumps(job_to_dict(job))))
    assert again.effective == job.effective and again.spec == job.spec
