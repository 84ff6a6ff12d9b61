"""Validate N generated specs with batchspec, check-jsonschema and the "ceiling"
(libyaml's CSafeLoader + jsonschema-rs), side by side; then start-up, parsing
alone, and memory at two tree sizes.

    python bench/validate_bench.py [--specs 10000] [--rounds 3] [--small 1000]

All tools read the same files against the same schema in the same run,
alternating, so machine drift affects them alike. batchspec does more work
(semantic rules, line numbers for problems). Every figure is a median; CPU
seconds (the process and every worker it waited for) are printed beside wall
time because wall time is noisy on a shared machine, and the ratios are
given for both.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SCHEMA = REPO / "schema" / "batchspec.v1.schema.json"
BIN = Path(sys.executable).parent

TEMPLATE = """\
# yaml-language-server: $schema={schema}
apiVersion: batchspec.dev/v1
kind: BatchPredictionJob
metadata:
  name: {name}
  labels:
    team: team-{team}
spec:
  target: {target}
  project: acme-ml-{team}
  region: {region}
  model:
    {model}
  input:
    format: {fmt}
    paths:
      - gs://acme-{team}/inputs/{inputs}
    {key}
  output:
    path: gs://acme-{team}/outputs/{name}/
  {resources}
  policy:
    maxRetries: {retries}
    deadline: {hours}h
"""

MODELS = {
    "vertex": "resource: projects/acme-ml-{team}/locations/us-central1/models/{n}",
    "genai": "publisher: publishers/google/models/gemini-2.0-flash-001",
    "mlengine": "name: model_{n}",
}
# What each service takes (a Gemini batch reads one file and takes no
# resources; Vertex sizes jobs by replicas, ML Engine by workers), so the
# specs are clean by every rule but for the planted mistake.
INPUTS = {"vertex": "part-*", "genai": "requests.jsonl", "mlengine": "part-*"}
RESOURCES = {
    "vertex": "resources:\n    machineType: n1-standard-4\n    replicaCount: {workers}",
    "genai": "",
    "mlengine": "resources:\n    maxWorkerCount: {workers}",
}

# The ceiling: the fastest widely used C YAML loader and a Rust JSON Schema
# validator, on the same files and schema, in one process.
CEILING = """
import sys, json, yaml, jsonschema_rs
validator = jsonschema_rs.validator_for(json.load(open(sys.argv[1])))
bad = 0
for name in open(sys.argv[2]).read().split("\\n"):
    with open(name, encoding="utf-8") as f:
        for doc in yaml.load_all(f.read(), Loader=yaml.CSafeLoader):
            bad += not validator.is_valid(doc)
print(bad)
"""


def generate(folder: Path, count: int, seed: int = 7) -> list[Path]:
    """Write `count` specs (1% with a mistake: a region no service has) and
    return their paths."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in range(count):
        target = rng.choice(list(MODELS))
        team = rng.randint(1, 20)
        fmt = "TEXT" if target == "mlengine" else "JSONL"
        text = TEMPLATE.format(
            schema=SCHEMA,
            name=f"job_{n:06d}",
            team=team,
            target=target,
            region="us-central1" if n % 100 else "mars-north1",
            model=MODELS[target].format(n=n, team=team),
            fmt=fmt,
            inputs=INPUTS[target],
            key="keyField: id" if target == "vertex" else "",
            resources=RESOURCES[target].format(workers=rng.randint(1, 20)),
            retries=rng.randint(0, 3),
            hours=rng.randint(1, 48),
        )
        path = folder / f"spec_{n:06d}.yaml"
        path.write_text(text)
        paths.append(path)
    return paths


@dataclass
class Run:
    """One whole-process run: wall and CPU seconds, peak memory of the tree."""

    wall: float
    cpu: float
    rss_mb: float
    rc: int


def _tree_rss_kb(pid: int) -> int:
    """Memory of `pid` and all its descendants (Linux /proc): proportional set
    size, so pages forked workers share with their parent count once."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            total += _pss_kb(current)
            for task in Path(f"/proc/{current}/task").iterdir():
                todo.extend(int(c) for c in (task / "children").read_text().split())
        except (OSError, IndexError, ValueError):
            continue
    return total


def _pss_kb(pid: int) -> int:
    try:
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        return int(rollup.split("\nPss:")[1].split()[0])
    except (OSError, IndexError):
        status = Path(f"/proc/{pid}/status").read_text()
        return int(status.split("VmRSS:")[1].split()[0])


def timed(cmd: list[str]) -> Run:
    """Run `cmd`; wall and CPU seconds (its own and its waited-for children's)
    and the peak memory (PSS) of its process tree, sampled every 10 ms."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = [0]
    done = threading.Event()

    def sample() -> None:  # never reaps the child: wait4 below does, for its rusage
        while not done.wait(0.01):
            peak[0] = max(peak[0], _tree_rss_kb(proc.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    done.set()
    proc.returncode = os.waitstatus_to_exitcode(status)
    sampler.join()
    return Run(wall, usage.ru_utime + usage.ru_stime, peak[0] / 1024, proc.returncode)


def median_runs(cmds: dict[str, list[str]], rounds: int) -> dict[str, Run]:
    """Alternate the commands `rounds` times; the median of each measure."""
    runs: dict[str, list[Run]] = {name: [] for name in cmds}
    for _ in range(rounds):
        for name, cmd in cmds.items():
            runs[name].append(timed(cmd))
    return {
        name: Run(
            statistics.median(r.wall for r in rs),
            statistics.median(r.cpu for r in rs),
            statistics.median(r.rss_mb for r in rs),
            rs[-1].rc,
        )
        for name, rs in runs.items()
    }


def commands(folder: Path, files: list[Path], lists: Path) -> dict[str, list[str]]:
    check = shutil.which("check-jsonschema", path=str(BIN)) or shutil.which("check-jsonschema")
    if not check:
        sys.exit("check-jsonschema is not installed: pip install check-jsonschema")
    lists.write_text("\n".join(map(str, files)))
    return {
        "batchspec validate": [
            sys.executable,
            "-m",
            "batchspec",
            "validate",
            "-o",
            "json",
            str(folder),
        ],
        "check-jsonschema": [check, "--schemafile", str(SCHEMA), "-o", "json", *map(str, files)],
        "ceiling (libyaml+jsonschema-rs)": [sys.executable, "-c", CEILING, str(SCHEMA), str(lists)],
    }


def report(results: dict[str, Run], count: int) -> None:
    ours = results["batchspec validate"]
    for name, r in results.items():
        print(
            f"  {name:32s} wall {r.wall:7.2f} s  cpu {r.cpu:7.2f} s"
            f"  {count / r.cpu:8.0f} specs/cpu-s  peak {r.rss_mb:6.0f} MB  rc={r.rc}"
        )
    for name in ("check-jsonschema", "ceiling (libyaml+jsonschema-rs)"):
        base = results[name]
        print(
            f"  ratio batchspec / {name}: cpu {ours.cpu / base.cpu:.3f}, wall"
            f" {ours.wall / base.wall:.3f} (below 1 is faster)"
        )


def parse_alone(files: list[Path]) -> None:
    """YAML parsing only, same texts, in this process (CPU seconds)."""
    import yaml

    from batchspec.load.source import parse_documents

    texts = [(str(p), p.read_text()) for p in files]

    def cpu(fn: object) -> float:
        start = time.process_time()
        for name, text in texts:
            fn(name, text)  # type: ignore[operator]
        return time.process_time() - start

    libyaml = cpu(lambda _n, t: list(yaml.load_all(t, Loader=yaml.CSafeLoader)))
    ours = cpu(parse_documents)
    print(
        f"  parse {len(texts)} texts: batchspec loader {ours:.2f} cpu-s, PyYAML CSafeLoader"
        f" {libyaml:.2f} cpu-s, ratio {ours / libyaml:.3f}"
    )


def startup(spec: Path, rounds: int) -> None:
    """`batchspec validate` of one spec against `python -c pass`, wall first."""
    results = median_runs(
        {
            "python -c pass": [sys.executable, "-c", "pass"],
            "batchspec validate (1 spec)": [
                sys.executable,
                "-m",
                "batchspec",
                "validate",
                str(spec),
            ],
        },
        rounds,
    )
    base, ours = results["python -c pass"], results["batchspec validate (1 spec)"]
    for name, r in results.items():
        print(f"  {name:32s} wall {r.wall * 1000:7.1f} ms  cpu {r.cpu * 1000:7.1f} ms")
    print(f"  start-up ratio: wall {ours.wall / base.wall:.2f}, cpu {ours.cpu / base.cpu:.2f}")


def compile_bytecode() -> None:
    """Write batchspec's bytecode first, as installing it does: a checkout
    run with PYTHONDONTWRITEBYTECODE=1 (as CI and these machines set) would
    otherwise compile every module's source on each start, which users of an
    installed batchspec never pay (about 50 ms of a 100 ms start-up)."""
    import compileall

    compileall.compile_dir(str(REPO / "batchspec"), quiet=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--specs", type=int, default=10_000)
    parser.add_argument("--small", type=int, default=1_000, help="smaller tree for memory")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--startup-rounds", type=int, default=15)
    args = parser.parse_args()
    compile_bytecode()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        big = generate(root / "big", args.specs)
        small = generate(root / "small", args.small)
        cmds = commands(root / "big", big, root / "big.txt")
        timed(cmds["batchspec validate"])  # warm the page cache
        print(f"specs: {args.specs}, rounds: {args.rounds} (medians, whole process trees)")
        report(median_runs(cmds, args.rounds), args.specs)
        print(f"memory, {args.small} vs {args.specs} specs (peak PSS of the process tree):")
        small_runs = median_runs(commands(root / "small", small, root / "small.txt"), args.rounds)
        big_runs = median_runs({k: cmds[k] for k in ("batchspec validate",)}, 1)
        print(
            f"  batchspec validate {small_runs['batchspec validate'].rss_mb:.0f} MB ->"
            f" {big_runs['batchspec validate'].rss_mb:.0f} MB;"
            f" check-jsonschema {small_runs['check-jsonschema'].rss_mb:.0f} MB at {args.small}"
        )
        print("start-up:")
        startup(big[1], args.startup_rounds)
        print("parsing alone:")
        parse_alone(small)


if __name__ == "__main__":
    main()
