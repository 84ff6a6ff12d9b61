"""Cost of the compile stage, as ratios against validating the same specs.

    python -m bench.bench_compile [--rounds N]

Validation (load + structure + rules) of specs/ is the baseline, measured in
the same run; compile (for each spec's own target and for another), the whole
desired side of a plan (the front door: validate, then compile), the
discovery-schema check and one import are printed as multiples of it.
Ratios, not wall-clock promises: they travel between machines, absolute
times do not.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path

from batchspec.compile import compile_diagnostics, compile_spec
from batchspec.compile.conformance import conformance_problems
from batchspec.migrate import import_text
from batchspec.model.enums import Target
from batchspec.plan import load_desired
from batchspec.validate import validate_paths

SPECS = Path(__file__).resolve().parent.parent / "specs"


def per_call(fn: Callable[[], object], rounds: int) -> float:
    """Mean seconds per call after one warm-up call."""
    fn()
    start = time.perf_counter()
    for _ in range(rounds):
        fn()
    return (time.perf_counter() - start) / rounds


def main() -> None:
    """Print one line per measurement."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=300)
    rounds = parser.parse_args().rounds
    specs = validate_paths([str(SPECS)]).specs
    jobs = [compile_spec(s.spec, env={}) for s in specs]
    ml_body = json.dumps(next(j.body for j in jobs if j.target.value == "mlengine"))
    baseline = per_call(lambda: validate_paths([str(SPECS)]), rounds)
    measured = {
        "compile (own target)": per_call(
            lambda: [compile_spec(s.spec, env={}) for s in specs], rounds
        ),
        "check for another target (local)": per_call(
            lambda: [compile_diagnostics(s.spec, target=Target.LOCAL, env={}) for s in specs],
            rounds,
        ),
        "validate + compile, as plan does": per_call(lambda: load_desired([str(SPECS)]), rounds),
        "discovery-schema check": per_call(lambda: [conformance_problems(j) for j in jobs], rounds),
        "import one ML Engine body": per_call(lambda: import_text(ml_body), rounds),
    }
    print(f"baseline: validate {len(specs)} specs = {baseline * 1e3:.2f} ms")
    for name, seconds in measured.items():
        print(f"{name}: {seconds / baseline:.2f}x validate ({seconds * 1e3:.2f} ms)")


if __name__ == "__main__":
    main()
