"""Benchmark: the local engine against the raw model and a hand-written loop.

For two workloads, measured side by side in one run on the same instances:

* sentiment: N customer reviews (JSONL, keyed) scored by the VADER demo model;
* tabular:   N flowers (CSV, keyed) classified by the iris LogisticRegression.

and three ways to run each:

* ceiling:  the raw model over the instances already in memory, one process,
            no I/O at all (batches of batchSize prepared beforehand);
* baseline: the plain Python loop a user writes by hand: read a line, parse
            it (stdlib json / csv), predict a batch, write JSON lines;
* engine:   the same spec through `LocalBackend.submit` (detached supervisor,
            workers = min(maxWorkerCount, cores)), timed from submit to the
            terminal state.

It prints throughput and the ratios engine/ceiling, engine/(ceiling x cores)
and engine/baseline, and the peak RSS of the engine's worker processes for
N/10 and N instances (memory must stay flat when the input grows tenfold).

    python bench/engine_bench.py --instances 20000            # quick check
    python bench/engine_bench.py --instances 1000000          # the real one
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from batchspec.backends.local import LocalBackend  # noqa: E402
from batchspec.compile import compile_paths  # noqa: E402
from batchspec.demo import iris, reviews  # noqa: E402
from batchspec.engine.supervisor import available_cores  # noqa: E402
from batchspec.model.enums import JobState, Target  # noqa: E402

BATCH = 64
FILES = 8


# --- inputs ------------------------------------------------------------------------


def write_reviews(folder: Path, n: int) -> None:
    reviews.write_files(folder, n, FILES, seed=1)


def write_flowers(folder: Path, n: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    per = -(-n // FILES)
    rows = iris.rows(n, seed=1)
    for f in range(FILES):
        with open(folder / f"flowers-{f:05d}.csv", "w", newline="") as fh:
            w = csv.writer(fh, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
            w.writerow(["id", *iris.FEATURES])
            for _ in range(min(per, n - f * per)):
                key, values = next(rows)
                w.writerow([key, *values])


# --- the three ways ----------------------------------------------------------------------


def sentiment_ceiling(folder: Path) -> tuple[int, float]:
    from batchspec.demo.sentiment import SentimentModel

    model = SentimentModel()
    batches: list[list[dict[str, Any]]] = [[]]
    for path in sorted(folder.glob("*.jsonl")):
        for line in path.open():
            row = json.loads(line)
            del row["review_id"]
            if len(batches[-1]) == BATCH:
                batches.append([])
            batches[-1].append(row)
    start = time.perf_counter()
    for batch in batches:
        model.predict(batch)
    return sum(map(len, batches)), time.perf_counter() - start


def sentiment_baseline(folder: Path, out: Path) -> tuple[int, float]:
    from batchspec.demo.sentiment import SentimentModel

    start = time.perf_counter()
    model = SentimentModel()
    n = 0
    with open(out, "w") as dst:
        for path in sorted(folder.glob("*.jsonl")):
            keys: list[str] = []
            batch: list[dict[str, Any]] = []
            with open(path) as src:
                for line in src:
                    row = json.loads(line)
                    keys.append(row.pop("review_id"))
                    batch.append(row)
                    if len(batch) == BATCH:
                        for k, p in zip(keys, model.predict(batch), strict=True):
                            dst.write(json.dumps({"key": k, "prediction": p}) + "\n")
                        n += len(batch)
                        keys, batch = [], []
            if batch:
                for k, p in zip(keys, model.predict(batch), strict=True):
                    dst.write(json.dumps({"key": k, "prediction": p}) + "\n")
                n += len(batch)
    return n, time.perf_counter() - start


def _load_iris() -> Any:
    import joblib

    return joblib.load(iris.MODEL_PATH)


def tabular_ceiling(folder: Path) -> tuple[int, float]:
    import numpy as np

    model = _load_iris()
    rows = []
    for path in sorted(folder.glob("*.csv")):
        with open(path) as fh:
            reader = csv.reader(fh, quoting=csv.QUOTE_NONNUMERIC)
            next(reader)
            rows.extend(r[1:] for r in reader)
    batches = [np.asarray(rows[i : i + BATCH]) for i in range(0, len(rows), BATCH)]
    start = time.perf_counter()
    for batch in batches:
        model.predict(batch)
    return len(rows), time.perf_counter() - start


def tabular_baseline(folder: Path, out: Path) -> tuple[int, float]:
    import numpy as np

    start = time.perf_counter()
    model = _load_iris()
    n = 0

    def flush(keys: list[str], batch: list[list[float]], dst: Any) -> None:
        for k, p in zip(keys, model.predict(np.asarray(batch)).tolist(), strict=True):
            dst.write(json.dumps({"key": k, "prediction": p}) + "\n")

    with open(out, "w") as dst:
        for path in sorted(folder.glob("*.csv")):
            with open(path) as fh:
                reader = csv.reader(fh, quoting=csv.QUOTE_NONNUMERIC)
                next(reader)
                keys: list[str] = []
                batch: list[list[float]] = []
                for row in reader:
                    keys.append(row[0])
                    batch.append(row[1:])
                    if len(batch) == BATCH:
                        flush(keys, batch, dst)
                        n += len(batch)
                        keys, batch = [], []
                if batch:
                    flush(keys, batch, dst)
                    n += len(batch)
    return n, time.perf_counter() - start


SPECS = {
    "sentiment": """
apiVersion: batchspec.dev/v1
kind: BatchPredictionJob
metadata: {{name: bench_sentiment_{n}}}
spec:
  target: local
  model: {{local: {{runner: python, callable: "batchspec.demo.sentiment:SentimentModel"}}}}
  input: {{format: JSONL, paths: ["{inp}/*"], keyField: review_id}}
  output: {{path: "{out}", overwrite: true}}
  resources: {{maxWorkerCount: {workers}, batchSize: {batch}}}
""",
    "tabular": """
apiVersion: batchspec.dev/v1
kind: BatchPredictionJob
metadata: {{name: bench_tabular_{n}}}
spec:
  target: local
  model:
    local: {{runner: sklearn, path: "{model}", sha256: "{sha}"}}
  input: {{format: CSV, paths: ["{inp}/*"], keyField: id}}
  output: {{path: "{out}", overwrite: true}}
  resources: {{maxWorkerCount: {workers}, batchSize: {batch}}}
""",
}


def run_engine(kind: str, inp: Path, work: Path, n: int, workers: int) -> dict[str, Any]:
    import hashlib

    spec = work / f"{kind}-{n}.yaml"
    spec.write_text(
        SPECS[kind].format(
            n=n, inp=inp, out=work / f"engine-out-{kind}-{n}", workers=workers, batch=BATCH,
            model=iris.MODEL_PATH, sha=hashlib.sha256(iris.MODEL_PATH.read_bytes()).hexdigest(),
        )
    )  # fmt: skip
    compiled = compile_paths([spec], target=Target.LOCAL)
    assert compiled.ok, compiled.diagnostics
    job = compiled.jobs[0]
    backend = LocalBackend(work / "home")
    start = time.perf_counter()
    remote = backend.rerun(job)
    while not (remote := backend.get(remote.remote_name)).terminal:
        time.sleep(0.02)
    wall = time.perf_counter() - start
    assert remote.state is JobState.SUCCEEDED, remote.error
    details = backend.details(remote.remote_name)
    return {
        "instances": remote.completed_count,
        "seconds": wall,
        "workers_rss_kb": details.get("peakWorkerRssKb"),
        "supervisor_rss_kb": details.get("supervisorRssKb"),
        "shards": details.get("shardsTotal"),
    }


def _burn(_: int) -> float:
    start = time.perf_counter()
    total = 0
    for i in range(15_000_000):
        total += i
    return time.perf_counter() - start


def effective_cores(workers: int) -> float:
    """What `workers` busy processes really get on this machine (shared cores,
    hyperthreads): workers x (one process alone / the slowest of them together),
    best of three each."""
    import multiprocessing

    alone = min(_burn(0) for _ in range(3))
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        together = min(max(pool.map(_burn, range(workers))) for _ in range(3))
    return workers * alone / together


WORKLOADS: dict[str, tuple[Callable[..., None], Callable[..., Any], Callable[..., Any]]] = {
    "sentiment": (write_reviews, sentiment_ceiling, sentiment_baseline),
    "tabular": (write_flowers, tabular_ceiling, tabular_baseline),
}


def bench(kind: str, n: int, workers: int, work: Path, memory: bool) -> dict[str, Any]:
    write, ceiling, baseline = WORKLOADS[kind]
    inp = work / f"in-{kind}-{n}"
    write(inp, n)
    result: dict[str, Any] = {"workload": kind, "instances": n, "workers": workers}
    count, secs = ceiling(inp)
    result["ceiling_per_s"] = count / secs
    count, secs = baseline(inp, work / f"baseline-{kind}.jsonl")
    result["baseline_per_s"] = count / secs
    eng = run_engine(kind, inp, work, n, workers)
    assert eng["instances"] == n, eng
    result["engine_per_s"] = n / eng["seconds"]
    result["engine_shards"] = eng["shards"]
    result["engine_workers_rss_kb"] = eng["workers_rss_kb"]
    if memory:
        small = max(n // 10, 1)
        small_inp = work / f"in-{kind}-{small}"
        write(small_inp, small)
        result["engine_workers_rss_kb_tenth"] = run_engine(kind, small_inp, work, small, workers)[
            "workers_rss_kb"
        ]
    return result


def report(rows: list[dict[str, Any]], cores: float) -> None:
    print()
    head = (
        f"{'workload':<10}{'N':>10}{'ceiling/s':>12}{'baseline/s':>12}{'engine/s':>11}"
        f"{'eng/ceil':>10}{'eng/(ceil*w)':>14}{'eng/(ceil*eff)':>16}{'eng/base':>10}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        per_core = r["engine_per_s"] / (r["ceiling_per_s"] * r["workers"])
        print(
            f"{r['workload']:<10}{r['instances']:>10,}{r['ceiling_per_s']:>12,.0f}"
            f"{r['baseline_per_s']:>12,.0f}{r['engine_per_s']:>11,.0f}"
            f"{r['engine_per_s'] / r['ceiling_per_s']:>10.2f}{per_core:>14.2f}"
            f"{r['engine_per_s'] / (r['ceiling_per_s'] * cores):>16.2f}"
            f"{r['engine_per_s'] / r['baseline_per_s']:>10.2f}"
        )
    print()
    for r in rows:
        big = r["engine_workers_rss_kb"] / 1024
        line = f"{r['workload']}: peak worker RSS {big:.0f} MB at N={r['instances']:,}"
        if "engine_workers_rss_kb_tenth" in r:
            small = r["engine_workers_rss_kb_tenth"] / 1024
            line += f", {small:.0f} MB at N/10 (ratio {big / small:.2f})"
        print(line + f"; {r['engine_shards']} shards, {r['workers']} workers")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instances", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=None, help="default: all cores")
    parser.add_argument("--only", choices=sorted(WORKLOADS))
    parser.add_argument("--no-memory", action="store_true", help="skip the N/10 memory run")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    workers = args.workers or available_cores()
    cores = effective_cores(workers)
    print(
        f"{args.instances:,} instances, {workers} worker(s), {available_cores()} core(s);"
        f" {workers} busy processes get {cores:.2f} cores' worth of CPU here (eff)"
    )
    rows = []
    with tempfile.TemporaryDirectory(prefix="batchspec-bench-") as tmp:
        os.environ["BATCHSPEC_HOME"] = str(Path(tmp) / "home")
        for kind in [args.only] if args.only else list(WORKLOADS):
            print(f"running {kind}...", flush=True)
            rows.append(bench(kind, args.instances, workers, Path(tmp), not args.no_memory))
    report(rows, cores)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"effective_cores": cores, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
