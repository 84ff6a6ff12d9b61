"""Benchmark: one job on the local engine, on the Ray backend, and as a plain Ray Data pipeline.

The same N keyed customer reviews (JSONL, 8 files) scored by the VADER demo
model, three ways, side by side in one run:

* local:    `LocalBackend.submit` (detached supervisor, min(maxWorkerCount,
            cores) worker processes), timed from submit to the end state;
* ray:      `RayBackend.submit` to a local cluster started here (Jobs API,
            the batchspec driver, a pool of actors), timed the same way;
* raydata:  the straightforward Ray Data pipeline a user would write,
            `read_json -> map_batches(model class, actor pool) -> write_json`,
            submitted to the same cluster as a Ray job and timed the same way.

Both Ray runs get the same pool: `--actors` actors of `--cpus-per-actor` CPU
(leaving one CPU free for reading, ray-project/ray#44687). For each way it
prints the wall time of a 1,000-instance job (the startup cost: process and
actor start-up, model loads, job submission; the first Ray job on a fresh
cluster also uploads batchspec), the throughput over N, the CPU seconds the
run used (the whole cluster for Ray, daemons included; the supervisor and its
workers for local: unlike wall time, this does not depend on what else the
machine is doing) and the ratios. For Ray it also prints how long the
cluster took to start and the memory it held (PSS: shared pages divided
among processes; RSS: counted in each, an upper bound), idle and at the peak
of each run, beside the local engine's peak for the same job.

    python bench/ray_bench.py --instances 20000       # quick check
    python bench/ray_bench.py                         # the real one: 1,000,000

Needs `pip install 'batchspec[ray,sentiment]' 'ray[data]'`.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
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
from batchspec.demo import reviews  # noqa: E402
from batchspec.engine.processpool import available_cores  # noqa: E402
from batchspec.model.enums import JobState, Target  # noqa: E402
from batchspec.raycluster.localcluster import CLIENT_ENV, LocalCluster  # noqa: E402
from bench.usage import MB, Usage, measure_local  # noqa: E402

BATCH = 64
FILES = 8
STARTUP_N = 1_000

SPEC = """
apiVersion: batchspec.dev/v1
kind: BatchPredictionJob
metadata: {{name: {name}}}
spec:
  target: {target}
  model: {{local: {{runner: python, callable: "batchspec.demo.sentiment:SentimentModel"}}}}
  input: {{format: JSONL, paths: ["{inp}/*"], keyField: review_id}}
  output: {{path: "{out}", overwrite: true}}
  resources: {{maxWorkerCount: {workers}, batchSize: {batch}}}
  ray: {{cpusPerActor: {cpus}}}
"""


def compiled(work: Path, name: str, target: Target, inp: Path, out: Path, args: Any) -> Any:
    spec = work / f"{name}.yaml"
    spec.write_text(
        SPEC.format(
            name=name, target=target.value, inp=inp, out=out, workers=args.actors,
            batch=BATCH, cpus=args.cpus_per_actor,
        )
    )  # fmt: skip
    result = compile_paths([spec], target=target)
    assert result.ok, result.diagnostics
    return result.jobs[0]


def count_lines(folder: Path, pattern: str) -> int:
    return sum(sum(1 for _ in p.open("rb")) for p in folder.glob(pattern))


# --- the three ways --------------------------------------------------------------------------


def run_local(work: Path, inp: Path, n: int, args: Any) -> dict[str, Any]:
    """The detached supervisor and its workers: exact CPU (it is our child,
    reaped here) and the peak memory of its whole process tree."""
    out = work / f"out-local-{n}"
    job = compiled(work, f"bench_local_{n}", Target.LOCAL, inp, out, args)
    backend = LocalBackend(work / "home")
    remote, cpu, mem = measure_local(backend, job)
    assert remote.state is JobState.SUCCEEDED, remote.error
    assert remote.completed_count == n, remote
    return {"seconds": cpu.wall, "peak": mem.peak, "cpu_seconds": cpu.seconds}


def run_ray(work: Path, inp: Path, n: int, args: Any, cluster: LocalCluster) -> dict[str, Any]:
    from batchspec.backends.ray import RayBackend

    out = work / f"out-ray-{n}"
    job = compiled(work, f"bench_ray_{n}", Target.RAY, inp, out, args)
    backend = RayBackend(cluster.address, cluster_home=str(work / "cluster-home"))
    start = time.perf_counter()
    remote = backend.rerun(job)
    with Usage(cluster.pids) as mem:
        while not (remote := backend.get(remote.remote_name)).terminal:
            time.sleep(0.1)
    wall = time.perf_counter() - start
    assert remote.state is JobState.SUCCEEDED, (remote.error, backend.logs(remote.remote_name))
    assert remote.completed_count == n, remote
    return {"seconds": wall, "peak": mem.peak, "cpu_seconds": mem.cpu_seconds}


def raydata_driver(inp: str, out: str, actors: int, cpus: float, batch: int) -> None:
    """The Ray Data pipeline (runs as the Ray job's entrypoint)."""
    import ray

    ray.init(logging_level="WARNING")

    class Score:
        def __init__(self) -> None:
            from batchspec.demo.sentiment import SentimentModel

            self.model = SentimentModel()

        def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
            preds = self.model.predict([{"text": t} for t in batch["text"]])
            return {"key": batch["review_id"], "prediction": preds}

    files = sorted(str(p) for p in Path(inp).glob("*.jsonl"))
    start = time.perf_counter()
    (
        ray.data.read_json(files, lines=True)
        .map_batches(
            Score,
            compute=ray.data.ActorPoolStrategy(size=actors),
            num_cpus=cpus,
            batch_size=batch,
        )
        .write_json(out)
    )
    print(f"pipeline {time.perf_counter() - start:.2f}s", flush=True)


def run_raydata(work: Path, inp: Path, n: int, args: Any, cluster: LocalCluster) -> dict[str, Any]:
    from ray.job_submission import JobSubmissionClient

    import batchspec

    out = work / f"out-raydata-{n}"
    client = JobSubmissionClient(cluster.address)
    entrypoint = shlex.join(
        [
            "python", str(Path(__file__).resolve()), "--raydata-driver", str(inp), str(out),
            str(args.actors), str(args.cpus_per_actor), str(BATCH),
        ]
    )  # fmt: skip
    runtime_env = {"py_modules": [str(Path(batchspec.__file__).resolve().parent)]}
    start = time.perf_counter()
    sid = client.submit_job(entrypoint=entrypoint, runtime_env=runtime_env)
    with Usage(cluster.pids) as mem:
        while not (status := client.get_job_status(sid)).is_terminal():
            time.sleep(0.1)
    wall = time.perf_counter() - start
    assert str(status) == "SUCCEEDED", client.get_job_logs(sid)[-3000:]
    written = count_lines(out, "*.json")
    assert written == n, (written, n)
    return {"seconds": wall, "peak": mem.peak, "cpu_seconds": mem.cpu_seconds}


# --- the run ---------------------------------------------------------------------------------


def measure(name: str, fn: Callable[..., dict[str, Any]], *a: Any) -> dict[str, Any]:
    """Run one part and print its figures as soon as it is done."""
    print(f"  {name}...", end=" ", flush=True)
    r = fn(*a)
    peak = r["peak"]
    print(
        f"{r['seconds']:.1f} s wall, {r['cpu_seconds']:.1f} s CPU, peak"
        f" {peak['pss'] / MB:,.0f} MB PSS ({peak['rss'] / MB:,.0f} MB RSS)",
        flush=True,
    )
    return r


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instances", type=int, default=1_000_000)
    parser.add_argument("--actors", type=int, default=2, help="workers / actors (default 2)")
    parser.add_argument("--cpus-per-actor", type=float, default=0.5)
    parser.add_argument("--cluster-cpus", type=int, default=None, help="default: the cores")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--raydata-driver", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.raydata_driver:
        inp, out, actors, cpus, batch = args.raydata_driver
        raydata_driver(inp, out, int(actors), float(cpus), int(batch))
        return 0
    os.environ.update(CLIENT_ENV)
    n = args.instances
    cores = available_cores()
    cluster_cpus = args.cluster_cpus or cores
    print(
        f"{n:,} instances, {cores} core(s); local: {args.actors} worker(s); Ray: a {cluster_cpus}"
        f"-CPU local cluster, {args.actors} actor(s) of {args.cpus_per_actor:g} CPU"
    )
    rows: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="batchspec-raybench-") as tmp:
        work = Path(tmp)
        os.environ["BATCHSPEC_HOME"] = str(work / "home")
        small, big = work / "in-small", work / "in-big"
        reviews.write_files(small, STARTUP_N, FILES, seed=2)
        reviews.write_files(big, n, FILES, seed=1)
        print("local engine", flush=True)
        rows["local"] = {
            "startup": measure("startup job", run_local, work, small, STARTUP_N, args),
            "run": measure(f"{n:,} instances", run_local, work, big, n, args),
        }
        print("starting a local Ray cluster", flush=True)
        with LocalCluster(num_cpus=cluster_cpus) as cluster:
            time.sleep(2.0)  # let the dashboard's start-up settle before measuring idle memory
            idle = cluster.memory()
            print(
                f"  up in {cluster.started_in:.1f}s; idle {idle['pss'] / MB:,.0f} MB PSS"
                f" ({idle['rss'] / MB:,.0f} MB RSS)",
                flush=True,
            )
            print("Ray backend", flush=True)
            rows["ray"] = {
                "startup": measure("startup job", run_ray, work, small, STARTUP_N, args, cluster),
                "run": measure(f"{n:,} instances", run_ray, work, big, n, args, cluster),
            }
            print("Ray Data pipeline", flush=True)
            rows["raydata"] = {
                "startup": measure(
                    "startup job", run_raydata, work, small, STARTUP_N, args, cluster
                ),
                "run": measure(f"{n:,} instances", run_raydata, work, big, n, args, cluster),
            }
            cluster_start = cluster.started_in
    report(rows, n, idle, cluster_start)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        data = {"instances": n, "cluster_start_s": cluster_start, "idle": idle, "rows": rows}
        args.json.write_text(json.dumps(data, indent=2))
    return 0


def report(rows: dict[str, dict[str, Any]], n: int, idle: dict[str, int], start: Any) -> None:
    print()
    head = (
        f"{'way':<9}{'startup s':>10}{'wall s':>9}{'inst/s':>10}{'vs local':>10}"
        f"{'CPU s':>8}{'CPU vs local':>14}{'peak PSS MB':>13}{'peak RSS MB':>13}"
    )
    print(head)
    print("-" * len(head))
    local = rows["local"]["run"]
    local_rate = n / local["seconds"]
    for way, r in rows.items():
        run = r["run"]
        rate = n / run["seconds"]
        peak = run["peak"]
        print(
            f"{way:<9}{r['startup']['seconds']:>10.1f}{run['seconds']:>9.1f}{rate:>10,.0f}"
            f"{rate / local_rate:>10.2f}{run['cpu_seconds']:>8.1f}"
            f"{run['cpu_seconds'] / local['cpu_seconds']:>14.2f}"
            f"{peak['pss'] / MB:>13,.0f}{peak['rss'] / MB:>13,.0f}"
        )
    ray_rate = n / rows["ray"]["run"]["seconds"]
    data_rate = n / rows["raydata"]["run"]["seconds"]
    local_start = rows["local"]["startup"]["seconds"]
    print()
    print(f"ray backend / ray data throughput: {ray_rate / data_rate:.2f}")
    print(
        f"startup vs local: ray {rows['ray']['startup']['seconds'] / local_start:.1f}x,"
        f" ray data {rows['raydata']['startup']['seconds'] / local_start:.1f}x"
        f" (plus {start:.1f}s to start the cluster)"
    )
    print(
        f"Ray cluster memory: idle {idle['pss'] / MB:,.0f} MB PSS ({idle['rss'] / MB:,.0f} MB RSS)."
        " Peaks and CPU seconds are the whole cluster for Ray (daemons included), the"
        " supervisor and its workers for local."
    )


if __name__ == "__main__":
    raise SystemExit(main())
