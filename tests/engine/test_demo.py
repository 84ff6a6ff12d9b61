"""The shipped demo: data regenerates byte for byte, the model matches its pin,
and both example local specs run to SUCCEEDED."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from batchspec.demo import iris, reviews
from batchspec.model.enums import JobState
from tests.conftest import REPO, SPECS
from tests.engine.conftest import Workspace


def test_review_data_is_what_the_generator_writes(tmp_path: Path) -> None:
    committed = sorted((REPO / "data" / "reviews").glob("reviews-*.jsonl"))
    written = reviews.write_files(tmp_path, 3000, 3)
    assert [p.name for p in committed] == [p.name for p in written]
    for a, b in zip(committed, written, strict=True):
        assert a.read_bytes() == b.read_bytes()
    total = sum(p.stat().st_size for p in (REPO / "data").rglob("*") if p.is_file())
    assert total < 1_000_000


def test_iris_csv_is_what_the_generator_writes(tmp_path: Path) -> None:
    iris.write_csv(tmp_path / "iris.csv")
    assert (tmp_path / "iris.csv").read_bytes() == (REPO / "data/iris/iris-00000.csv").read_bytes()


def test_the_spec_pins_the_committed_model() -> None:
    spec = YAML(typ="safe").load((SPECS / "iris_local.yaml").read_text())
    pinned = spec["spec"]["model"]["local"]["sha256"]
    assert hashlib.sha256(iris.MODEL_PATH.read_bytes()).hexdigest() == pinned


@pytest.mark.parametrize(
    ("spec_name", "count", "check"),
    [
        (
            "review_sentiment.yaml",
            3000,
            lambda p: p["label"] in {"positive", "negative", "neutral"},
        ),
        ("iris_local.yaml", 150, lambda p: p in {"setosa", "versicolor", "virginica"}),
    ],
)
def test_example_local_specs_run(ws: Workspace, spec_name: str, count: int, check) -> None:  # type: ignore[no-untyped-def]
    doc = YAML(typ="safe").load((SPECS / spec_name).read_text())
    spec = doc["spec"]
    spec["input"]["paths"] = [str((SPECS / p).resolve()) for p in spec["input"]["paths"]]
    local = spec["model"]["local"]
    if "path" in local:
        local["path"] = str((SPECS / local["path"]).resolve())
    spec["output"]["path"] = "out"
    job = ws.run(doc)
    assert job.state is JobState.SUCCEEDED, job.error
    results = ws.lines("results")
    assert len(results) == count == job.completed_count
    assert all(check(r["prediction"]) for r in results)
    assert len({r["key"] for r in results}) == count
    if spec_name == "iris_local.yaml":  # the model is right about the real flowers
        truth = {
            f"iris-{i + 1:03d}": ["setosa", "versicolor", "virginica"][i // 50] for i in range(150)
        }
        right = sum(r["prediction"] == truth[r["key"]] for r in results)
        assert right / 150 > 0.95
    json.loads((ws.out() / "batchspec-manifest.json").read_text())
