"""engine_bench's instruction-count mode (`--count-instructions`): the same
workloads, raw loop against engine, counted in instructions executed (Ir,
valgrind's callgrind) instead of CPU seconds, which on a shared machine vary
too much between runs to read a 10 % difference from.

Each side runs once at N and once at N/10, every process of it under
callgrind: the raw loop's one process; the engine as users run it,
`LocalBackend.submit`, whose detached supervisor is started through a
wrapper that runs the interpreter under valgrind, so the supervisor and the
workers it forks are counted (see bench/callgrind.py). Printed per workload:

* whole job: Ir of each side at N, the engine's overhead;
* per instance: the Ir the last 90 % of the instances added (N minus N/10),
  per instance, and the engine's overhead on it: what the issue's goal is
  about, since start-up and model loads cancel out;
* start-up: what is left of each side at N/10 once its per-instance cost
  is taken away (interpreter, imports, model load; for the engine also its
  supervisor), and where the engine's instructions went (the supervisor
  before it forked its workers, the supervisor after, the workers).
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from batchspec.engine.worker import PROGRESS_BATCHES, PROGRESS_CAP, PROGRESS_EVERY
from bench import callgrind
from bench.engine_bench import RAW_LOOPS, WORKLOADS, run_engine

# valgrind runs Python about 50 times slower: N such that the instances add
# about 1 G instructions, far above what start-up varies between runs (~0.02 G)
DEFAULT_INSTANCES = {"sentiment": 5_000, "tabular-jsonl": 50_000, "tabular-csv": 50_000}
# the same str hashes in every run: start-up counts then vary less
STABLE_HASHES = {"PYTHONHASHSEED": "0"}


def commands(work: Path) -> str:
    """The commands each side runs, for the record."""
    cg = callgrind.prefix(work / "cg-example")
    raw = shlex.join([*cg, sys.executable, str(RAW_LOOPS), "KIND", "INPUT_DIR", "OUT.jsonl"])
    engine = shlex.join([*cg, sys.executable, "-m", "batchspec.engine.supervisor", "JOB_DIR"])
    env = " ".join(f"{k}={v}" for k, v in STABLE_HASHES.items())
    return (
        f"  environment of both: {env}\n  raw loop: {raw}\n"
        "  engine:   LocalBackend(python=<wrapper>).submit(job); the wrapper runs the supervisor"
        f" as\n            {engine}"
    )


def count_raw(kind: str, inp: Path, work: Path) -> callgrind.Counts:
    """Instructions of the raw loop over `inp`."""
    out_dir = work / f"cg-raw-{kind}-{inp.name}"
    subprocess.run(
        [*callgrind.prefix(out_dir), sys.executable, str(RAW_LOOPS), kind, str(inp),
         str(work / f"raw-{kind}.jsonl")],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return callgrind.read_counts(out_dir)


def count_engine(kind: str, inp: Path, work: Path) -> tuple[callgrind.Counts, int]:
    """Instructions of the engine's whole process tree over `inp`, and the
    supervisor's pid."""
    out_dir = work / f"cg-engine-{kind}-{inp.name}"
    python = callgrind.wrapper(work / f"python-{kind}-{inp.name}", out_dir, sys.executable)
    run = run_engine(kind, inp, work, 1, python=str(python))
    assert run["instances"] == _instances(inp), run
    return callgrind.read_counts(out_dir), int(run["pid"])


def _instances(inp: Path) -> int:
    return int(inp.name.rsplit("-", 1)[1])


def _g(ir: float) -> str:
    return f"{ir / 1e9:.3f} G"


def workload(kind: str, n: int, work: Path) -> dict[str, Any]:
    """Both sides at N and at N/10; prints each count as it arrives."""
    write: Callable[[Path, int], None] = WORKLOADS[kind][0]
    small = max(n // 10, 1)
    row: dict[str, Any] = {"workload": kind, "instances": n, "small": small}
    for size, tag in ((n, "n"), (small, "small")):
        inp = work / f"in-{kind}-{size}"
        write(inp, size)
        raw = count_raw(kind, inp, work)
        print(f"  {kind} N={size:,}: raw loop {_g(raw.total)} Ir", flush=True)
        eng, pid = count_engine(kind, inp, work)
        row[f"raw_{tag}"], row[f"engine_{tag}"] = raw.total, eng.total
        row[f"parts_{tag}"] = _parts(eng, pid)
        parts = ", ".join(f"{k} {_g(v)}" for k, v in row[f"parts_{tag}"].items())
        print(
            f"  {kind} N={size:,}: engine {_g(eng.total)} Ir ({parts}):"
            f" {eng.total / raw.total - 1:+.1%}",
            flush=True,
        )
    _derive(row)
    print(summary(row), flush=True)
    return row


def summary(row: dict[str, Any]) -> str:
    """One workload's per-instance and start-up figures."""
    return (
        f"  {row['workload']}: per instance raw {row['raw_per']:,.0f} Ir,"
        f" engine {row['engine_per']:,.0f} Ir:"
        f" {row['per_overhead']:+.1%} (workers {row['per workers']:,.0f}, supervisor"
        f" {row['per supervisor after']:,.0f}: progress every {PROGRESS_EVERY} s and"
        f" {PROGRESS_BATCHES} batches, at most {PROGRESS_CAP} s apart, which under valgrind"
        " (~50x slower) comes more often per instance); start-up raw"
        f" {_g(row['raw_fixed'])}, engine {_g(row['engine_fixed'])}"
    )


def _parts(counts: callgrind.Counts, supervisor: int) -> dict[str, int]:
    """The engine's instructions by process: supervisor before and after its
    forks, and its workers."""
    sup = counts.by_pid.get(supervisor, 0)
    before = counts.before_fork.get(supervisor, 0)
    return {
        "supervisor to fork": before,
        "supervisor after": sup - before,
        "workers": counts.total - sup,
    }


def _derive(row: dict[str, Any]) -> None:
    extra = row["instances"] - row["small"]
    for side in ("raw", "engine"):
        per = (row[f"{side}_n"] - row[f"{side}_small"]) / extra
        row[f"{side}_per"] = per
        row[f"{side}_fixed"] = row[f"{side}_small"] - per * row["small"]
    for part in row["parts_n"]:
        row[f"per {part}"] = (row["parts_n"][part] - row["parts_small"][part]) / extra
    row["whole_overhead"] = row["engine_n"] / row["raw_n"] - 1
    row["per_overhead"] = row["engine_per"] / row["raw_per"] - 1


def report(rows: list[dict[str, Any]]) -> None:
    """The table of every workload."""
    print()
    head = (
        f"{'workload':<15}{'N':>8}{'raw Ir':>11}{'engine Ir':>11}{'whole job':>11}"
        f"{'raw Ir/inst':>13}{'engine Ir/inst':>16}{'per inst':>10}"
        f"{'raw start-up':>14}{'engine start-up':>17}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        print(
            f"{r['workload']:<15}{r['instances']:>8,}{_g(r['raw_n']):>11}{_g(r['engine_n']):>11}"
            f"{r['whole_overhead']:>+11.1%}{r['raw_per']:>13,.0f}{r['engine_per']:>16,.0f}"
            f"{r['per_overhead']:>+10.1%}{_g(r['raw_fixed']):>14}{_g(r['engine_fixed']):>17}"
        )
    print(
        "\nIr: instructions executed, whole process tree (G = 10^9); per instance: N minus N/10,"
        "\nover the instances that adds; start-up: N/10's count less its instances' share."
    )


def main(kinds: list[str], n: int | None, work: Path) -> list[dict[str, Any]]:
    """Every workload of `kinds` (N instances, else its default), counted;
    returns the rows."""
    if not callgrind.available():
        raise SystemExit("--count-instructions needs valgrind on PATH")
    os.environ.update(STABLE_HASHES)  # both sides inherit it (the engine: LocalBackend)
    print("instructions executed (callgrind Ir) at N and N/10 instances, one engine worker")
    print(commands(work), flush=True)
    rows = [workload(kind, n or DEFAULT_INSTANCES[kind], work) for kind in kinds]
    report(rows)
    return rows
