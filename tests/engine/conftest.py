"""Fixtures for engine tests: a workspace with spec files, inputs and a
local backend whose jobs live under the test's tmp folder."""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from batchspec.backends.local import LocalBackend
from batchspec.compile import compile_paths
from batchspec.model.enums import Target
from batchspec.model.jobs import CompiledJob, RemoteJob
from batchspec.testing import specs

HELPERS = Path(__file__).resolve().parent / "helpers"


def spec_doc(
    *,
    model: dict[str, Any],
    input: dict[str, Any],
    output: dict[str, Any] | None = None,
    name: str = "test_job",
    labels: dict[str, str] | None = None,
    **spec: Any,
) -> dict[str, Any]:
    """A local spec document: the shared builder, each block given replacing
    the base's (`model` is the `model.local` runner)."""
    return specs.spec_doc(
        name,
        "local",
        labels=labels or {},
        merge=False,
        model={"local": model},
        input=input,
        output=output or {"path": "out"},
        **spec,
    )


def python_model(callable_: str, **extra: Any) -> dict[str, Any]:
    """A `python` runner section."""
    return {"runner": "python", "callable": callable_, **extra}


class Workspace:
    """A folder with a spec, its inputs and a backend (jobs in ./home)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.backend = LocalBackend(root / "home")

    def write(self, rel: str, content: str | bytes) -> Path:
        """Write a file under the workspace."""
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
        return path

    def jsonl(self, rel: str, rows: list[Any]) -> Path:
        """Write JSON lines."""
        return self.write(rel, "".join(json.dumps(r) + "\n" for r in rows))

    def compile(self, doc: dict[str, Any], name: str = "spec.yaml") -> CompiledJob:
        """Write, validate and compile a spec for the local target."""
        path = self.write(name, json.dumps(doc, indent=1))
        compiled = compile_paths([path], target=Target.LOCAL)
        assert compiled.ok, [d.message for d in compiled.diagnostics]
        return compiled.jobs[0]

    def run(self, doc: dict[str, Any], *, name: str = "spec.yaml", **kw: Any) -> RemoteJob:
        """Compile and run to the end in this process (workers are processes)."""
        return self.backend.run_inline(self.compile(doc, name), **kw)

    def out(self, rel: str = "out") -> Path:
        """The output folder."""
        return self.root / rel

    def lines(self, kind: str, rel: str = "out") -> list[dict[str, Any]]:
        """Every JSON line of every `prediction.<kind>-*` file, in file order."""
        out = []
        for p in sorted(self.out(rel).glob(f"prediction.{kind}-*")):
            out.extend(json.loads(line) for line in p.read_text().splitlines())
        return out

    def details(self, job: RemoteJob) -> dict[str, Any]:
        """The raw status record."""
        return self.backend.details(job.remote_name)


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    """A fresh workspace."""
    return Workspace(tmp_path)


@pytest.fixture(scope="session")
def iris_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A LogisticRegression on iris saved with joblib, and its sha256."""
    import joblib
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    iris = load_iris()
    model = LogisticRegression(max_iter=500).fit(iris.data, iris.target_names[iris.target])
    path = tmp_path_factory.mktemp("models") / "iris.joblib"
    joblib.dump(model, path)
    return path, hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="session")
def iris_onnx(iris_model: tuple[Path, str]) -> Path:
    """The same model converted to ONNX (labels and probabilities as outputs)."""
    import joblib
    from skl2onnx import to_onnx

    model = joblib.load(iris_model[0])
    import numpy as np

    onx = to_onnx(model, np.zeros((1, 4), dtype=np.float32), options={"zipmap": False})
    path = iris_model[0].with_suffix(".onnx")
    path.write_bytes(onx.SerializeToString())
    return path


@pytest.fixture
def server_cmd() -> list[str]:
    """Command line of the test model server."""
    return [sys.executable, str(HELPERS / "model_server.py")]


@pytest.fixture
def batch_cmd() -> list[str]:
    """Command line of the test batch command."""
    return [sys.executable, str(HELPERS / "batch_command.py")]


@pytest.fixture(autouse=True)
def _no_stray_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Jobs never land in the repository's .batchspec."""
    monkeypatch.setenv("BATCHSPEC_HOME", str(tmp_path / "home"))
    yield


@pytest.fixture(autouse=True)
def _state(state_in_tmp: Path) -> None:
    """`batchspec run` records its job: in the test's folder."""
