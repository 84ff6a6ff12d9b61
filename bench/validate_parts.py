"""Cost per spec of each part of `batchspec validate`'s file check, in one
process: read, parse, view, rules, and the rest of `validator.check_file`.

    python -m bench.validate_parts [--specs 2000] [--rounds 5]
    python -m bench.validate_parts --count [--specs 500]

The specs are `bench/validate_bench.py`'s (1 % with a planted wrong region).
By default each part is timed alone over every spec with
`time.process_time`, after a warm-up pass (views and patterns compile
once); the figure is the smallest of `--rounds` passes, the least disturbed
by other processes on a shared machine. `--count` counts instructions
instead (valgrind's callgrind, `bench/callgrind.py`): deterministic, so a
few percent are visible while other processes run; each part is the count of
a process running it twice less one running it once. "rest" is a whole
`check_file` less the parts it is made of.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from batchspec.load.source import parse_documents, read_text
from batchspec.validate import fastlane
from batchspec.validate.validator import check_file, rules_of
from bench import callgrind
from bench.validate_bench import generate

REPO = Path(__file__).resolve().parent.parent
PARTS = ("read", "parse", "view", "rules", "whole")


def workloads(names: list[str]) -> dict[str, tuple[Callable[[Any], object], list[Any]]]:
    """Each part's function and the inputs it takes, one per spec."""
    texts = [(name, read_text(name)[0]) for name in names]
    datas = [parse_documents(name, text)[0][0].data for name, text in texts]
    views = [fastlane.fast_view(data) for data in datas]
    return {
        "read": (read_text, names),
        "parse": (lambda nt: parse_documents(*nt), texts),
        "view": (fastlane.fast_view, datas),
        "rules": (rules_of, views),
        "whole": (lambda n: check_file(n, keep_specs=False), names),
    }


def per_spec(fn: Callable[[Any], object], items: list[Any], rounds: int) -> float:
    """Microseconds of CPU per item, the least of `rounds` passes."""
    for item in items:
        fn(item)
    best = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        for item in items:
            fn(item)
        best = min(best, time.process_time() - start)
    return best / len(items) * 1e6


def timed(names: list[str], rounds: int) -> dict[str, float]:
    return {part: per_spec(fn, items, rounds) for part, (fn, items) in workloads(names).items()}


def counted(folder: Path, count: int, parts: tuple[str, ...]) -> dict[str, float]:
    """Instructions per spec of each part (callgrind)."""
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    out: dict[str, float] = {}
    for part in parts:
        irs = []
        for passes in (1, 2):
            cg = folder / f"cg-{part}-{passes}"
            cmd = [*callgrind.prefix(cg), sys.executable, "-m", "bench.validate_parts"]
            cmd += ["--folder", str(folder)]
            cmd += ["--specs", str(count), "--only", part, "--passes", str(passes)]
            subprocess.run(cmd, check=True, env=env, cwd=REPO)
            irs.append(callgrind.read_counts(cg).total)
        out[part] = (irs[1] - irs[0]) / count
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--specs", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--count", action="store_true", help="instructions (callgrind)")
    parser.add_argument("--parts", default=",".join(PARTS), help="with --count: which parts")
    parser.add_argument("--only", choices=PARTS, help=argparse.SUPPRESS)
    parser.add_argument("--passes", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.only:  # one counted process
        names = [str(args.folder / f"spec_{n:06d}.yaml") for n in range(args.specs)]
        fn, items = workloads(names)[args.only]
        for _ in range(args.passes):
            for item in items:
                fn(item)
        return
    with tempfile.TemporaryDirectory() as tmp:
        names = [str(p) for p in generate(Path(tmp), args.specs)]
        if args.count:
            parts = counted(Path(tmp), args.specs, tuple(args.parts.split(",")))
        else:
            parts = timed(names, args.rounds)
    whole = parts.pop("whole", None)
    if whole is None:
        whole = sum(parts.values())
    elif len(parts) == len(PARTS) - 1:
        parts["rest"] = whole - sum(parts.values())
    unit = "instructions" if args.count else "µs"
    for part, value in parts.items():
        print(f"{part:>6} {value:9.1f}")
    print(f"{'total':>6} {whole:9.1f} {unit} per spec ({args.specs} specs)")


if __name__ == "__main__":
    main()
