"""The baselines of bench/engine_bench.py: the loop a user writes by hand.

    python bench/raw_loops.py KIND INPUT_DIR OUTPUT_FILE

reads every file of INPUT_DIR in name order, parses it with the fastest
plain tools (msgspec for JSON lines, the csv module for CSV), predicts one
batch of BATCH instances at a time, and writes `{"key": ..., "prediction":
...}` lines with msgspec. It runs as its own process, so its CPU seconds
include the interpreter, the imports and the model load, as the engine's do.
It imports nothing of batchspec but the demo model it runs. On exit it
prints one JSON line: instances, and the CPU seconds spent inside predict.
"""

from __future__ import annotations

import csv
import json
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import msgspec

BATCH = 64
IRIS_FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
IRIS_MODEL = (
    Path(__file__).resolve().parent.parent / "batchspec" / "demo" / "data" / ("iris_logreg.joblib")
)


def jsonl_rows(folder: Path, key: str) -> Iterator[tuple[Any, Any]]:
    """(key, object without the key) per line."""
    decode = msgspec.json.Decoder().decode
    for path in sorted(folder.iterdir()):
        with open(path, "rb") as fh:
            for line in fh:
                obj = decode(line)
                yield obj.pop(key), obj


def csv_rows(folder: Path) -> Iterator[tuple[Any, Any]]:
    """(first column, the other columns) per row after the header."""
    for path in sorted(folder.iterdir()):
        with open(path, newline="") as fh:
            reader = csv.reader(fh, quoting=csv.QUOTE_NONNUMERIC)
            next(reader)
            for row in reader:
                yield row[0], row[1:]


def sentiment() -> tuple[Callable[[list[Any]], list[Any]], Callable[[Path], Iterator[Any]]]:
    """The VADER demo model over keyed review objects."""
    from batchspec.demo.sentiment import SentimentModel

    return SentimentModel().predict, lambda folder: jsonl_rows(folder, "review_id")


def _iris() -> Callable[[list[Any]], list[Any]]:
    import joblib
    import numpy as np

    method = joblib.load(IRIS_MODEL).predict

    def predict(rows: list[Any]) -> list[Any]:
        out: list[Any] = method(np.asarray(rows)).tolist()
        return out

    return predict


def tabular_jsonl() -> tuple[Callable[[list[Any]], list[Any]], Callable[[Path], Iterator[Any]]]:
    """The iris model over keyed JSON objects (features in the model's order)."""

    def rows(folder: Path) -> Iterator[Any]:
        for key, obj in jsonl_rows(folder, "id"):
            yield key, [obj[f] for f in IRIS_FEATURES]

    return _iris(), rows


def tabular_csv() -> tuple[Callable[[list[Any]], list[Any]], Callable[[Path], Iterator[Any]]]:
    """The iris model over a keyed CSV (key first, then the features)."""
    return _iris(), csv_rows


KINDS = {"sentiment": sentiment, "tabular-jsonl": tabular_jsonl, "tabular-csv": tabular_csv}


def run(kind: str, folder: Path, out: Path) -> dict[str, Any]:
    """Predict every instance in `folder` into `out`."""
    predict, rows = KINDS[kind]()
    encode = msgspec.json.Encoder().encode_lines
    n = 0
    in_model = 0.0
    with open(out, "wb") as dst:
        keys: list[Any] = []
        batch: list[Any] = []

        def flush() -> None:
            nonlocal in_model
            start = time.process_time()
            preds = predict(batch)
            in_model += time.process_time() - start
            lines = [{"key": k, "prediction": p} for k, p in zip(keys, preds, strict=True)]
            dst.write(encode(lines))

        for key, inst in rows(folder):
            keys.append(key)
            batch.append(inst)
            if len(batch) == BATCH:
                flush()
                n += len(batch)
                keys, batch = [], []
        if batch:
            flush()
            n += len(batch)
    return {"instances": n, "model_cpu": in_model}


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    print(json.dumps(run(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]))))
