"""Structure errors: codes, document paths, positions and hints."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from batchspec.validate import validate_paths
from tests.conftest import VALID_VERTEX

WriteSpec = Callable[..., Path]


def diags(path: Path) -> list[tuple[str, str, int | None, int | None, str | None]]:
    result = validate_paths([str(path)])
    return [(d.code, d.pointer, d.line, d.column, d.hint) for d in result.diagnostics]


def test_unknown_key_did_you_mean_points_at_the_key(write_spec: WriteSpec) -> None:
    path = write_spec(VALID_VERTEX.replace("  output:\n", "  ouput:\n    path: x\n  output:\n"))
    [(code, pointer, line, col, hint)] = diags(path)
    assert (code, pointer, line, col) == ("BS101", "spec.ouput", 15, 3)
    assert hint == "did you mean `output`?"


def test_snake_case_key_suggests_camel_case(write_spec: WriteSpec) -> None:
    path = write_spec(VALID_VERTEX + "  resources:\n    max_worker_count: 3\n")
    [(code, pointer, _, _, hint)] = diags(path)
    assert code == "BS101" and pointer == "spec.resources.max_worker_count"
    assert hint == "did you mean `maxWorkerCount`?"


def test_missing_key_points_at_parent(write_spec: WriteSpec) -> None:
    path = write_spec(VALID_VERTEX.replace("  model:\n", "  modelx:\n"))
    found = diags(path)
    assert ("BS102", "spec", 6, 3) in [f[:4] for f in found]
    assert any(f[0] == "BS101" and f[4] == "did you mean `model`?" for f in found)


def test_date_where_text_belongs(write_spec: WriteSpec) -> None:
    path = write_spec(VALID_VERTEX + "  policy:\n    deadline: 2024-01-01\n")
    [(code, pointer, line, col, hint)] = diags(path)
    assert (code, pointer, line, col) == ("BS103", "spec.policy.deadline", 18, 15)
    assert hint is not None and "quote it" in hint


def test_number_where_text_belongs(write_spec: WriteSpec) -> None:
    path = write_spec(VALID_VERTEX + "  runtimeVersion: 1.15\n")
    [(code, _, _, _, hint)] = diags(path)
    assert code == "BS103" and hint == "YAML read this as a number; quote it: '1.15'"


def test_quoted_number_where_number_belongs(write_spec: WriteSpec) -> None:
    path = write_spec(VALID_VERTEX + "  resources:\n    batchSize: '64'\n")
    found = diags(path)
    assert found[0][0] == "BS103" and found[0][4] == "remove the quotes: 64"


def test_enum_did_you_mean(write_spec: WriteSpec) -> None:
    path = write_spec(VALID_VERTEX.replace("format: JSONL", "format: jsonl"))
    [(code, pointer, line, _, hint)] = diags(path)
    assert (code, pointer, line) == ("BS104", "spec.input.format", 12)
    assert hint == "did you mean `JSONL`?"


def test_unknown_runner(write_spec: WriteSpec) -> None:
    text = VALID_VERTEX.replace("target: vertex", "target: local").replace(
        "    resource: projects/proj-123456/locations/us-central1/models/123\n",
        "    local:\n      runner: tensorflow\n",
    )
    found = diags(write_spec(text))
    assert found[0][:2] == ("BS104", "spec.model.local.runner")


def test_unknown_key_inside_runner_names_runner_fields(write_spec: WriteSpec) -> None:
    text = VALID_VERTEX.replace("target: vertex", "target: local").replace(
        "    resource: projects/proj-123456/locations/us-central1/models/123\n",
        "    local:\n      runner: python\n      callable: a.b:c\n      callabel: x\n",
    )
    found = diags(write_spec(text))
    assert found[0][:2] == ("BS101", "spec.model.local.callabel")
    assert found[0][4] == "did you mean `callable`?"


def test_out_of_range(write_spec: WriteSpec) -> None:
    path = write_spec(VALID_VERTEX + "  resources:\n    maxWorkerCount: 0\n")
    assert diags(path)[0][:2] == ("BS105", "spec.resources.maxWorkerCount")


def test_wrong_api_version(write_spec: WriteSpec) -> None:
    path = write_spec(VALID_VERTEX.replace("batchspec.dev/v1", "batchspec.dev/v2"))
    [(code, pointer, line, _, _)] = diags(path)
    assert (code, pointer, line) == ("BS100", "apiVersion", 1)


def test_every_problem_reported_at_once(write_spec: WriteSpec) -> None:
    text = VALID_VERTEX.replace("name: scores", "name: bad-name").replace(
        "us-central1\n", "mars-north1\n", 1
    )
    text += "  runtimeVersion: 1.15\n  resources:\n    replicas: 2\n"
    found = {f[0] for f in diags(write_spec(text))}
    # BS302: the model (us-central1) is not where the job runs; validate says
    # so as compiling would.
    assert found == {"BS201", "BS211", "BS103", "BS101", "BS302"}


def test_multi_document_positions(write_spec: WriteSpec) -> None:
    second = VALID_VERTEX.replace("name: scores", "name: other").replace("JSONL", "XML")
    path = write_spec(VALID_VERTEX + "---\n" + second)
    [d] = validate_paths([str(path)]).diagnostics
    assert d.document == 1 and d.line == 16 + 1 + 12  # first document, `---`, line 12
