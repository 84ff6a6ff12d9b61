"""Validate N generated specs with batchspec and with check-jsonschema, side by side.

    python bench/validate_bench.py [--specs 10000] [--rounds 3]

Both tools read the same files against the same schema in the same run,
alternating, so machine drift affects both alike. batchspec does more work
(semantic rules, line numbers for problems). Prints medians and the ratio.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
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
      - gs://acme-{team}/inputs/part-*
    {key}
  output:
    path: gs://acme-{team}/outputs/{name}/
  resources:
    maxWorkerCount: {workers}
  policy:
    maxRetries: {retries}
    deadline: {hours}h
"""

MODELS = {
    "vertex": "resource: projects/acme/locations/us-central1/models/{n}",
    "genai": "publisher: publishers/google/models/gemini-2.0-flash-001",
    "mlengine": "name: model_{n}",
}


def generate(folder: Path, count: int, seed: int = 7) -> list[Path]:
    """Write `count` specs (about 1% with a mistake) and return their paths."""
    rng = random.Random(seed)
    paths = []
    for n in range(count):
        target = rng.choice(list(MODELS))
        fmt = "TEXT" if target == "mlengine" else "JSONL"
        text = TEMPLATE.format(
            schema=SCHEMA,
            name=f"job_{n:06d}",
            team=rng.randint(1, 20),
            target=target,
            region="us-central1" if n % 100 else "mars-north1",
            model=MODELS[target].format(n=n),
            fmt=fmt,
            key="keyField: id" if target != "mlengine" else "",
            workers=rng.randint(1, 20),
            retries=rng.randint(0, 3),
            hours=rng.randint(1, 48),
        )
        path = folder / f"spec_{n:06d}.yaml"
        path.write_text(text)
        paths.append(path)
    return paths


def timed(cmd: list[str]) -> tuple[float, int]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start, proc.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--specs", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    check = shutil.which("check-jsonschema", path=str(BIN)) or shutil.which("check-jsonschema")
    if not check:
        sys.exit("check-jsonschema is not installed: pip install check-jsonschema")
    with tempfile.TemporaryDirectory() as tmp:
        files = [str(p) for p in generate(Path(tmp), args.specs)]
        ours = [sys.executable, "-m", "batchspec", "validate", "-o", "json", tmp]
        theirs = [check, "--schemafile", str(SCHEMA), "-o", "json", *files]
        timed(ours)  # warm the page cache for both
        a_times, b_times = [], []
        for _ in range(args.rounds):
            a, a_rc = timed(ours)
            b, b_rc = timed(theirs)
            a_times.append(a)
            b_times.append(b)
    a_med, b_med = statistics.median(a_times), statistics.median(b_times)
    print(f"specs: {args.specs}, rounds: {args.rounds} (medians, whole process)")
    print(f"batchspec validate  : {a_med:7.2f} s  {args.specs / a_med:9.0f} specs/s  rc={a_rc}")
    print(f"check-jsonschema    : {b_med:7.2f} s  {args.specs / b_med:9.0f} specs/s  rc={b_rc}")
    print(f"ratio batchspec/check-jsonschema time: {a_med / b_med:.2f} (below 1 is faster)")


if __name__ == "__main__":
    main()
