"""Cost of reading batch outputs back, as ratios against parsing the same lines.

    python -m bench.bench_results [--rows N] [--rounds N]

A temporary folder gets Vertex-style `predictions_0001.jsonl` / `errors_0001.jsonl`
files (one error in ten) for N keyed inputs. The baseline, measured in the same
run, is `json.loads` of every output line: the least any reader must do.
Reading with `read_results`, reading plus joining to the inputs by key, and
reading the same lines as local-engine shards checked against a manifest
(sha256, sizes, record counts, duplicate lines) are printed as multiples of it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from batchspec.results import join_inputs, read_results


def per_call(fn: Callable[[], object], rounds: int) -> float:
    """Mean seconds per call after one warm-up call."""
    fn()
    start = time.perf_counter()
    for _ in range(rounds):
        fn()
    return (time.perf_counter() - start) / rounds


def write_outputs(folder: Path, rows: int) -> list[dict[str, object]]:
    """Inputs, and their outputs written in shuffled order as Vertex would."""
    inputs = [{"id": f"r{i}", "text": f"review {i} " * 8, "stars": i % 5} for i in range(rows)]
    order = list(range(rows))
    random.Random(7).shuffle(order)
    good, bad = [], []
    for i in order:
        if i % 10 == 9:
            bad.append({"key": f"r{i}", "error": {"code": 3, "message": "bad input"}})
        else:
            good.append({"key": f"r{i}", "prediction": {"score": (i % 100) / 100}})
    (folder / "predictions_0001.jsonl").write_text("".join(json.dumps(x) + "\n" for x in good))
    (folder / "errors_0001.jsonl").write_text("".join(json.dumps(x) + "\n" for x in bad))
    return inputs


def write_engine_outputs(folder: Path, source: Path) -> None:
    """The same predictions as one local-engine shard plus its manifest."""
    folder.mkdir()
    name = "prediction.results-00000-of-00001"
    data = (source / "predictions_0001.jsonl").read_bytes()
    (folder / name).write_bytes(data)
    entry = {
        "name": name,
        "sha256": hashlib.sha256(data).hexdigest(),
        "bytes": len(data),
        "records": data.count(b"\n"),
    }
    manifest = {"outputFormat": "JSONL", "files": [entry]}
    (folder / "batchspec-manifest.json").write_text(json.dumps(manifest))


def main() -> None:
    """Print one line per measurement."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        inputs = write_outputs(folder, args.rows)
        files = sorted(folder.glob("*.jsonl"))
        engine = folder / "engine"
        write_engine_outputs(engine, folder)

        def baseline() -> int:
            count = 0
            for path in files:
                with path.open() as handle:
                    count += sum(1 for line in handle if json.loads(line) is not None)
            return count

        base = per_call(baseline, args.rounds)
        measured = {
            "read_results": per_call(
                lambda: sum(1 for _ in read_results(str(folder))), args.rounds
            ),
            "read_results + join by key": per_call(
                lambda: sum(
                    1 for _ in join_inputs(read_results(str(folder)), inputs, key_field="id")
                ),
                args.rounds,
            ),
            "read_results, checked against a manifest (predictions only)": per_call(
                lambda: sum(1 for _ in read_results(str(engine))), args.rounds
            ),
        }
    print(f"baseline: json.loads of {args.rows} output lines = {base * 1e3:.1f} ms")
    for name, seconds in measured.items():
        print(f"{name}: {seconds / base:.2f}x baseline ({args.rows / seconds:,.0f} rows/s)")


if __name__ == "__main__":
    main()
