"""Benchmark: the local engine against the loop a user writes by hand.

Measured side by side in one run, each side as its own processes, in CPU
seconds (the whole process tree: the engine's supervisor and its workers;
the hand-written loop's one process) beside wall time:

* fixed cost: the demo's 150 flowers (CSV, the iris scikit-learn model), a
  job that costs little more than its model load;
* overhead:   N instances of three workloads, the engine against the raw loop
  of `bench/raw_loops.py` (msgspec or csv parsing, one predict per batch of
  64, msgspec writing):
    sentiment      keyed reviews (JSONL) scored by the VADER demo model,
    tabular-jsonl  keyed flowers (JSONL objects) classified by the iris model,
    tabular-csv    keyed flowers (CSV) classified by the iris model.

The engine runs as users run it, `LocalBackend.submit` (a detached
supervisor and its worker processes), timed from submit until the supervisor
exits. It gets one worker by default, like the raw loop's one process: on a
shared machine the CPU seconds of two processes running side by side swell
with the contention for caches and cores, which is no cost of the engine
(`--workers 2` shows it). For each workload it prints the engine's CPU overhead over
the raw loop for the whole job and per instance (the CPU the last 90 % of
the instances added, from a second run at N/10: start-up and model loads
cancel out), the part of the raw loop spent in the model, and the peak
memory of the engine's whole process tree (PSS and RSS) at N and at N/10
(memory must stay flat when the input grows tenfold). Each part is printed
as it finishes.

    python bench/engine_bench.py --instances 50000             # quick check (3 rounds)
    python bench/engine_bench.py                               # 500,000 each
    python bench/engine_bench.py --preload 5                   # preload or not
    python bench/engine_bench.py --count-instructions          # instructions, not CPU s

`--count-instructions` counts the instructions each side executes under
valgrind's callgrind (bench/engine_count.py): deterministic, where the CPU
seconds of the same loop vary by a third between runs on a shared machine.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from batchspec.backends.local import LocalBackend  # noqa: E402
from batchspec.compile import compile_paths  # noqa: E402
from batchspec.demo import iris, reviews  # noqa: E402
from batchspec.engine.processpool import available_cores  # noqa: E402
from batchspec.model.enums import JobState, Target  # noqa: E402
from bench.usage import MB, ChildCpu, measure_local  # noqa: E402

BATCH = 64
FILES = 8
RAW_LOOPS = Path(__file__).resolve().parent / "raw_loops.py"
DEMO_CSV = REPO / "data" / "iris" / "iris-00000.csv"


# --- inputs ------------------------------------------------------------------------------


def write_reviews(folder: Path, n: int) -> None:
    reviews.write_files(folder, n, FILES, seed=1)


def _flowers(
    folder: Path, n: int, write: Callable[[Any, str, list[float]], None], ext: str
) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    per = -(-n // FILES)
    rows = iris.rows(n, seed=1)
    for f in range(FILES):
        with open(folder / f"flowers-{f:05d}.{ext}", "w", newline="") as fh:
            out: Any = fh
            if ext == "csv":
                out = csv.writer(fh, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
                out.writerow(["id", *iris.FEATURES])
            for _ in range(min(per, n - f * per)):
                write(out, *next(rows))


def write_flowers_csv(folder: Path, n: int) -> None:
    _flowers(folder, n, lambda w, key, values: w.writerow([key, *values]), "csv")


def write_flowers_jsonl(folder: Path, n: int) -> None:
    def line(fh: Any, key: str, values: list[float]) -> None:
        fh.write(json.dumps({"id": key, **dict(zip(iris.FEATURES, values, strict=True))}) + "\n")

    _flowers(folder, n, line, "jsonl")


SKLEARN = (
    '{{local: {{runner: sklearn, path: "{model}", sha256: "{sha}", features: ['
    + ", ".join(iris.FEATURES)
    + "]}}}}"
)
JSONL_INPUT = '{{format: JSONL, paths: ["{inp}/*"], keyField: %s}}'
WORKLOADS: dict[str, tuple[Callable[[Path, int], None], str, str]] = {
    "sentiment": (
        write_reviews,
        '{{local: {{runner: python, callable: "batchspec.demo.sentiment:SentimentModel"}}}}',
        JSONL_INPUT % "review_id",
    ),
    "tabular-jsonl": (write_flowers_jsonl, SKLEARN, JSONL_INPUT % "id"),
    "tabular-csv": (write_flowers_csv, SKLEARN, JSONL_INPUT.replace("JSONL", "CSV") % "id"),
}

SPEC = """apiVersion: batchspec.dev/v1
kind: BatchPredictionJob
metadata: {{name: {name}}}
spec:
  target: local
  model: {model}
  input: {input}
  output: {{path: "{out}", overwrite: true}}
  resources: {{maxWorkerCount: {workers}, batchSize: {batch}}}
"""


# --- the two sides -----------------------------------------------------------------------


def run_raw(kind: str, inp: Path, out: Path) -> dict[str, Any]:
    """The hand-written loop in its own process."""
    with ChildCpu() as cpu:
        proc = subprocess.run(
            [sys.executable, str(RAW_LOOPS), kind, str(inp), str(out)],
            check=True,
            capture_output=True,
            text=True,
        )
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    return {"cpu": cpu.seconds, "wall": cpu.wall, **report}


def run_engine(
    kind: str, inp: Path, work: Path, workers: int, python: str | None = None
) -> dict[str, Any]:
    """The same instances through `LocalBackend.submit` (its supervisor started
    with `python`, the running interpreter by default)."""
    _, model, inputs = WORKLOADS[kind]
    name = f"bench_{kind.replace('-', '_')}_{inp.name.replace('-', '_')}"
    spec = work / f"{name}.yaml"
    sha = hashlib.sha256(iris.MODEL_PATH.read_bytes()).hexdigest()
    spec.write_text(
        SPEC.format(
            name=name, workers=workers, batch=BATCH, out=work / f"out-{name}",
            model=model.format(model=iris.MODEL_PATH, sha=sha), input=inputs.format(inp=inp),
        )
    )  # fmt: skip
    compiled = compile_paths([spec], target=Target.LOCAL)
    assert compiled.ok, compiled.diagnostics
    job = compiled.jobs[0]
    backend = LocalBackend(work / "home", python=python)
    remote, cpu, mem = measure_local(backend, job)
    assert remote.state is JobState.SUCCEEDED, remote.error
    details = backend.details(remote.remote_name)
    return {
        "cpu": cpu.seconds,
        "wall": cpu.wall,
        "instances": remote.completed_count,
        "shards": details.get("shardsTotal"),
        "peak": mem.peak,
        "pid": json.loads((backend.job_dir(remote.remote_name) / "launch.json").read_text())["pid"],
    }


# --- the parts ---------------------------------------------------------------------------

ROUNDS = 3  # default of --rounds


def side_by_side(
    raw: Callable[[], dict[str, Any]], engine: Callable[[], dict[str, Any]], rounds: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Each side `rounds` times, alternating (so a burst of load on a shared
    machine falls on both), and each side's run of median CPU: one run of
    each was too noisy to read a 10 % difference from."""
    raws, engines = [], []
    for _ in range(rounds):
        raws.append(raw())
        engines.append(engine())
    return median_run(raws), median_run(engines)


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run whose CPU seconds are the median, with every run's CPU beside it."""
    ordered = sorted(runs, key=lambda r: r["cpu"])
    return {**ordered[len(ordered) // 2], "cpu_runs": [r["cpu"] for r in runs]}


def fixed_cost(work: Path, rounds: int) -> dict[str, Any]:
    """The demo's 150 flowers: what a tiny job costs beyond its model."""
    inp = work / "in-demo"
    inp.mkdir()
    (inp / DEMO_CSV.name).write_bytes(DEMO_CSV.read_bytes())
    raw, eng = side_by_side(
        lambda: run_raw("tabular-csv", inp, work / "raw-demo.jsonl"),
        lambda: run_engine("tabular-csv", inp, work, 1),
        rounds,
    )
    print(
        f"  raw loop {raw['cpu']:.2f} s CPU ({raw['wall']:.2f} s wall); engine {eng['cpu']:.2f} s"
        f" CPU ({eng['wall']:.2f} s wall): {eng['cpu'] - raw['cpu']:+.2f} s CPU,"
        f" ratio {eng['cpu'] / raw['cpu']:.2f}",
        flush=True,
    )
    return {"raw": raw, "engine": eng}


def overhead(
    kind: str, n: int, workers: int, work: Path, tenth: bool, rounds: int
) -> dict[str, Any]:
    """One workload: the raw loop, then the engine, on the same N instances."""
    write = WORKLOADS[kind][0]
    inp = work / f"in-{kind}-{n}"
    write(inp, n)
    raw, eng = side_by_side(
        lambda: run_raw(kind, inp, work / f"raw-{kind}.jsonl"),
        lambda: run_engine(kind, inp, work, workers),
        rounds,
    )
    assert raw["instances"] == n, raw
    assert eng["instances"] == n, eng
    row = {"workload": kind, "instances": n, "workers": workers, "raw": raw, "engine": eng}
    line = (
        f"  {kind}: raw loop {raw['cpu']:.1f} s CPU ({raw['wall']:.1f} s wall, model"
        f" {raw['model_cpu']:.1f} s); engine {eng['cpu']:.1f} s CPU ({eng['wall']:.1f} s wall,"
        f" {eng['shards']} shards): overhead {eng['cpu'] / raw['cpu'] - 1:+.1%} CPU"
    )
    if tenth:
        small = max(n // 10, 1)
        small_inp = work / f"in-{kind}-{small}"
        write(small_inp, small)
        row["raw_tenth"], row["engine_tenth"] = side_by_side(
            lambda: run_raw(kind, small_inp, work / f"raw-{kind}-tenth.jsonl"),
            lambda: run_engine(kind, small_inp, work, workers),
            rounds,
        )
        line += f"; per instance {marginal(row):+.1%} (N minus N/10: no fixed costs)"
    print(line, flush=True)
    return row


def marginal(row: dict[str, Any]) -> float:
    """The engine's CPU overhead per instance: the CPU the last 90 % of the
    instances added, engine over raw loop (start-up and model loads cancel)."""
    eng = row["engine"]["cpu"] - row["engine_tenth"]["cpu"]
    raw = row["raw"]["cpu"] - row["raw_tenth"]["cpu"]
    return eng / raw - 1


def preload_check(work: Path, runs: int) -> None:
    """Whether the supervisor should import the model's libraries before it
    forks its workers: whole-tree CPU of iris jobs with one worker (the demo's
    150 flowers) and with two (20,000 flowers), preloading always or never,
    the median of `runs` runs each, alternating."""
    demo = work / "in-demo"
    demo.mkdir(exist_ok=True)
    (demo / DEMO_CSV.name).write_bytes(DEMO_CSV.read_bytes())
    two = work / "in-preload-20000"
    write_flowers_csv(two, 20_000)
    for workers, inp in ((1, demo), (2, two)):
        cpu: dict[str, list[float]] = {"never": [], "always": []}
        for _ in range(runs):
            for how, seconds in cpu.items():
                os.environ["BATCHSPEC_PRELOAD"] = how
                seconds.append(run_engine("tabular-csv", inp, work, workers)["cpu"])
        os.environ.pop("BATCHSPEC_PRELOAD")
        never, always = (sorted(v)[len(v) // 2] for v in cpu.values())
        print(
            f"  {workers} worker(s): preload never {never:.2f} s CPU, always {always:.2f} s CPU"
            f" (median of {runs})",
            flush=True,
        )


def report(rows: list[dict[str, Any]]) -> None:
    print()
    head = (
        f"{'workload':<15}{'N':>10}{'raw CPU s':>11}{'wall s':>8}{'engine CPU s':>14}{'wall s':>8}"
        f"{'CPU overhead':>14}{'per instance':>14}{'wall ratio':>12}{'model share':>13}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        raw, eng = r["raw"], r["engine"]
        print(
            f"{r['workload']:<15}{r['instances']:>10,}{raw['cpu']:>11.1f}{raw['wall']:>8.1f}"
            f"{eng['cpu']:>14.1f}{eng['wall']:>8.1f}{eng['cpu'] / raw['cpu'] - 1:>+14.1%}"
            + (f"{marginal(r):>+14.1%}" if "engine_tenth" in r else f"{'-':>14}")
            + f"{eng['wall'] / raw['wall']:>12.2f}{raw['model_cpu'] / raw['cpu']:>13.0%}"
        )
    print()
    for r in rows:
        peak = r["engine"]["peak"]
        line = (
            f"{r['workload']}: engine process tree peak {peak['pss'] / MB:.0f} MB PSS"
            f" ({peak['rss'] / MB:.0f} MB RSS) at N={r['instances']:,}"
        )
        if "engine_tenth" in r:
            small = r["engine_tenth"]["peak"]
            line += (
                f", {small['pss'] / MB:.0f} MB PSS at N/10"
                f" (ratio {peak['pss'] / max(small['pss'], 1):.2f})"
            )
        print(line + f"; {r['workers']} worker(s)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--instances",
        type=int,
        help="instances per workload (default 500,000; counted: 5,000 sentiment, 50,000 tabular)",
    )
    parser.add_argument(
        "--count-instructions",
        action="store_true",
        help="count instructions executed (valgrind's callgrind) instead of CPU seconds:"
        " deterministic where CPU seconds on a shared machine are not",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="engine workers (default 1: one process, as the raw loop; the CPU seconds of"
        " processes running side by side on shared cores swell with contention)",
    )
    parser.add_argument("--only", choices=sorted(WORKLOADS))
    parser.add_argument(
        "--no-tenth", action="store_true", help="skip the N/10 runs (memory growth, per instance)"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=ROUNDS,
        help=f"runs of each side, alternating; the median CPU is reported (default {ROUNDS})",
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--preload", type=int, metavar="RUNS", help="only compare preloading in the supervisor"
    )
    args = parser.parse_args()
    if args.count_instructions:
        return count_instructions(args)
    args.instances = args.instances or 500_000
    if args.preload:
        with tempfile.TemporaryDirectory(prefix="batchspec-bench-") as tmp:
            print("preloading the model's libraries before forking workers (iris, CSV)")
            preload_check(Path(tmp), args.preload)
        return 0
    workers = args.workers
    rounds = max(args.rounds, 1)
    print(
        f"{args.instances:,} instances, {workers} worker(s), {available_cores()} core(s);"
        f" CPU seconds are whole process trees, medians of {rounds} alternating runs"
    )
    rows = []
    with tempfile.TemporaryDirectory(prefix="batchspec-bench-") as tmp:
        work = Path(tmp)
        os.environ["BATCHSPEC_HOME"] = str(work / "home")
        print("fixed cost: the demo's 150 flowers (CSV, iris model, one worker)", flush=True)
        fixed = fixed_cost(work, rounds)
        print(f"overhead over {args.instances:,} instances", flush=True)
        for kind in [args.only] if args.only else list(WORKLOADS):
            rows.append(overhead(kind, args.instances, workers, work, not args.no_tenth, rounds))
    report(rows)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"fixed": fixed, "rows": rows}, indent=2))
    return 0


def count_instructions(args: argparse.Namespace) -> int:
    """The instruction-count mode (bench/engine_count.py)."""
    from bench import engine_count

    with tempfile.TemporaryDirectory(prefix="batchspec-bench-") as tmp:
        work = Path(tmp)
        os.environ["BATCHSPEC_HOME"] = str(work / "home")
        kinds = [args.only] if args.only else list(WORKLOADS)
        rows = engine_count.main(kinds, args.instances, work)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"instructions": rows}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
