"""An ONNX model run by ONNX Runtime on the CPU, one thread per worker (the
engine already runs one worker per core)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from batchspec.engine.errors import ModelLoadError
from batchspec.engine.runners.base import RunnerContext, import_optional, read_pinned, to_rows
from batchspec.model.spec import OnnxRunner

_DTYPES = {
    "tensor(float)": "float32",
    "tensor(double)": "float64",
    "tensor(int64)": "int64",
    "tensor(int32)": "int32",
    "tensor(string)": "object",
    "tensor(bool)": "bool",
}


class OnnxModel:
    """Feeds the batch as one tensor; one output gives the prediction, several
    give an object keyed by output name."""

    isolate_failures = True

    def __init__(self, session: Any, input_name: str, dtype: str, outputs: list[str], cfg: Any):
        self._session = session
        self._input = input_name
        self._dtype = dtype
        self._outputs = outputs
        self._features = cfg.features
        self._np = import_optional("numpy", purpose="the onnx runner")

    @classmethod
    def load(cls, cfg: OnnxRunner, ctx: RunnerContext) -> OnnxModel:
        """Create the inference session."""
        where, data = read_pinned(cfg.path, ctx.spec_dir, cfg.sha256, what="ONNX model")
        ort = import_optional("onnxruntime", purpose="the onnx runner")
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        try:
            session = ort.InferenceSession(
                data, sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:
            raise ModelLoadError(f"ONNX Runtime cannot load {where}: {exc}") from exc
        inputs = session.get_inputs()
        names = [i.name for i in inputs]
        if cfg.input_name is not None and cfg.input_name not in names:
            raise ModelLoadError(
                f"{where} has no input {cfg.input_name!r}", hint=f"inputs: {', '.join(names)}"
            )
        if cfg.input_name is None and len(inputs) != 1:
            raise ModelLoadError(
                f"{where} has {len(inputs)} inputs; say which one gets the instances",
                hint=f"set `inputName` to one of: {', '.join(names)}",
            )
        chosen = next(i for i in inputs if i.name == (cfg.input_name or names[0]))
        dtype = _DTYPES.get(chosen.type)
        if dtype is None:
            raise ModelLoadError(f"input {chosen.name!r} has unsupported type {chosen.type}")
        available = [o.name for o in session.get_outputs()]
        outputs = list(cfg.output_names or available)
        unknown = [o for o in outputs if o not in available]
        if unknown:
            raise ModelLoadError(
                f"{where} has no output(s) {', '.join(unknown)}",
                hint=f"outputs: {', '.join(available)}",
            )
        return cls(session, chosen.name, dtype, outputs, cfg)

    def predict(self, instances: list[Any]) -> Sequence[Any]:
        """Run the session on the batch."""
        rows = to_rows(instances, self._features, runner="onnx")
        tensor = self._np.asarray(rows, dtype=self._dtype)
        results = self._session.run(self._outputs, {self._input: tensor})
        columns = [r.tolist() if hasattr(r, "tolist") else list(r) for r in results]
        if len(columns) == 1:
            return columns[0]
        return [
            {name: col[i] for name, col in zip(self._outputs, columns, strict=True)}
            for i in range(len(instances))
        ]

    def close(self) -> None:
        """Nothing to release."""
