"""Model runners: python, sklearn (pinned pickles), onnx; loading failures."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from batchspec.engine.errors import ModelContractError, ModelLoadError
from batchspec.engine.runners import RunnerContext, load_runner
from batchspec.model.spec import OnnxRunner, PythonRunner, SklearnRunner

IRIS_ROWS = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3], [5.9, 3.0, 4.2, 1.5]]


def ctx(tmp: Path) -> RunnerContext:
    return RunnerContext(spec_dir=tmp, job_name="t", batch_size=8)


def python(callable_: str, tmp: Path, **kw: Any) -> Any:
    return load_runner(PythonRunner(runner="python", callable=callable_, **kw), ctx(tmp))


def test_function_and_class_with_init_args(tmp_path: Path) -> None:
    fn = python("tests.engine.helpers.models:length", tmp_path)
    assert list(fn.predict(["abc", {"text": "a"}])) == [3, 1]
    cls = python("tests.engine.helpers.models:Scaler", tmp_path, initArgs={"factor": 2.5})
    assert list(cls.predict([{"x": 2}])) == [5.0]


def test_python_path_is_relative_to_the_spec_folder(tmp_path: Path) -> None:
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "mymodel_for_test.py").write_text(
        "def predict(xs):\n    return [x * 10 for x in xs]\n"
    )
    runner = python("mymodel_for_test:predict", tmp_path, pythonPath=["lib"])
    assert list(runner.predict([1, 2])) == [10, 20]


@pytest.mark.parametrize(
    ("callable_", "message", "hint"),
    [
        ("no_such_module_xyz:f", "cannot import 'no_such_module_xyz'", "pythonPath"),
        ("tests.engine.helpers.models:nothing", "has no attribute 'nothing'", None),
        ("tests.engine.helpers.models:BrokenInit", "RuntimeError: weights file missing", None),
        ("tests.engine.helpers.models:NeedsExtra", "onnxruntime", "batchspec[onnx]"),
    ],
)
def test_models_that_cannot_load_say_why(
    tmp_path: Path, callable_: str, message: str, hint: str | None
) -> None:
    with pytest.raises(ModelLoadError, match=message) as info:
        python(callable_, tmp_path)
    if hint:
        assert hint in (info.value.hint or "")


def test_sentiment_demo_model_scores_reviews(tmp_path: Path) -> None:
    model = python("batchspec.demo.sentiment:SentimentModel", tmp_path)
    good, bad = model.predict([{"text": "I love it, wonderful!"}, "terrible, it broke"])
    assert good["label"] == "positive" and good["score"] > 0.5
    assert bad["label"] == "negative"
    with pytest.raises(TypeError, match="needs a string 'text'"):
        model.predict([{"body": "x"}])


def sklearn(path: Path, sha: str | None, tmp: Path, **kw: Any) -> Any:
    cfg = SklearnRunner(runner="sklearn", path=str(path), sha256=sha, **kw)
    return load_runner(cfg, ctx(tmp))


def test_sklearn_predicts_with_the_pinned_file(
    iris_model: tuple[Path, str], tmp_path: Path
) -> None:
    path, sha = iris_model
    model = sklearn(path, sha, tmp_path)
    assert list(model.predict(IRIS_ROWS)) == ["setosa", "virginica", "versicolor"]
    proba = sklearn(path, sha, tmp_path, method="predict_proba").predict(IRIS_ROWS[:1])
    assert len(proba[0]) == 3 and abs(sum(proba[0]) - 1) < 1e-9


def test_sklearn_objects_need_a_feature_order(iris_model: tuple[Path, str], tmp_path: Path) -> None:
    path, sha = iris_model
    names = ["a", "b", "c", "d"]
    rows = [dict(zip(names, r, strict=True)) for r in IRIS_ROWS]
    with pytest.raises(ModelContractError, match="column order"):
        sklearn(path, sha, tmp_path).predict(rows)
    ordered = sklearn(path, sha, tmp_path, features=names)
    assert list(ordered.predict(rows)) == ["setosa", "virginica", "versicolor"]


def test_sklearn_refuses_a_file_that_is_not_the_pinned_one(
    iris_model: tuple[Path, str], tmp_path: Path
) -> None:
    path, _ = iris_model
    with pytest.raises(ModelLoadError, match="refusing to load") as info:
        sklearn(path, "0" * 64, tmp_path)
    assert "sha256" in (info.value.hint or "")
    with pytest.raises(ModelLoadError, match="not pinned"):
        sklearn(path, None, tmp_path)


def test_sklearn_pickle_is_never_loaded_when_the_pin_differs(tmp_path: Path) -> None:
    evil = tmp_path / "evil.joblib"
    marker = tmp_path / "pwned"
    import pickle

    class Boom:
        def __reduce__(self) -> Any:
            return (open, (str(marker), "w"))

    evil.write_bytes(pickle.dumps(Boom()))
    with pytest.raises(ModelLoadError):
        sklearn(evil, "f" * 64, tmp_path)
    assert not marker.exists()


def test_sklearn_bad_file_and_missing_file(tmp_path: Path) -> None:
    junk = tmp_path / "junk.joblib"
    junk.write_bytes(b"not a pickle")
    sha = hashlib.sha256(junk.read_bytes()).hexdigest()
    with pytest.raises(ModelLoadError, match="not a loadable joblib file"):
        sklearn(junk, sha, tmp_path)
    with pytest.raises(ModelLoadError, match="does not exist"):
        sklearn(tmp_path / "nope.joblib", sha, tmp_path)


def test_onnx_matches_sklearn(
    iris_model: tuple[Path, str], iris_onnx: Path, tmp_path: Path
) -> None:
    both = load_runner(OnnxRunner(runner="onnx", path=str(iris_onnx)), ctx(tmp_path))
    out = both.predict(IRIS_ROWS)
    assert [o["label"] for o in out] == ["setosa", "virginica", "versicolor"]
    assert len(out[0]["probabilities"]) == 3
    labels = load_runner(
        OnnxRunner(runner="onnx", path=str(iris_onnx), outputNames=["label"]), ctx(tmp_path)
    )
    assert list(labels.predict(IRIS_ROWS)) == ["setosa", "virginica", "versicolor"]


def test_onnx_load_errors(iris_onnx: Path, tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="no input 'x'"):
        load_runner(OnnxRunner(runner="onnx", path=str(iris_onnx), inputName="x"), ctx(tmp_path))
    with pytest.raises(ModelLoadError, match="no output"):
        load_runner(
            OnnxRunner(runner="onnx", path=str(iris_onnx), outputNames=["nope"]), ctx(tmp_path)
        )
    junk = tmp_path / "m.onnx"
    junk.write_bytes(b"junk")
    with pytest.raises(ModelLoadError, match="ONNX Runtime cannot load"):
        load_runner(OnnxRunner(runner="onnx", path=str(junk)), ctx(tmp_path))
