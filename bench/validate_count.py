"""Instructions (valgrind's callgrind) of `batchspec validate -o json DIR` on
generated specs, beside check-jsonschema's on the same files: the 10k
bench's CPU ratio without the noise of a shared machine.

    python -m bench.validate_count [--specs 2000] [--base main] [--no-check]

Every process of each tree is counted (workers included, `bench/callgrind.py`).
With `--base REF`, that git ref's batchspec (exported to a temporary folder)
is counted too, on the same files.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench import callgrind
from bench.validate_bench import SCHEMA, generate

REPO = Path(__file__).resolve().parent.parent


def count(cmd: list[str], out: Path, cwd: Path) -> int:
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    subprocess.run(
        [*callgrind.prefix(out), *cmd], cwd=cwd, env=env, stdout=subprocess.DEVNULL, check=False
    )
    return callgrind.read_counts(out).total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--specs", type=int, default=2000)
    parser.add_argument("--base", help="a git ref to count too")
    parser.add_argument("--no-check", action="store_true", help="skip check-jsonschema")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        files = generate(root / "specs", args.specs)
        ours = [sys.executable, "-m", "batchspec", "validate", "-o", "json", str(root / "specs")]
        subprocess.run(
            [sys.executable, "-m", "compileall", "-q", str(REPO / "batchspec")], check=True
        )
        counts = {"batchspec validate": count(ours, root / "cg-ours", REPO)}
        if args.base:
            base = root / "base"
            base.mkdir()
            archive = subprocess.run(
                ["git", "archive", args.base], cwd=REPO, capture_output=True, check=True
            )
            subprocess.run(["tar", "-x", "-C", str(base)], input=archive.stdout, check=True)
            # as `batchspec` here runs from compiled bytecode: with
            # PYTHONDONTWRITEBYTECODE set, the base would compile its source in every run
            subprocess.run(
                [sys.executable, "-m", "compileall", "-q", str(base / "batchspec")], check=True
            )
            counts[f"batchspec validate ({args.base})"] = count(ours, root / "cg-base", base)
        if not args.no_check:
            check = str(Path(sys.executable).parent / "check-jsonschema")
            cmd = [check, "--schemafile", str(SCHEMA), "-o", "json", *map(str, files)]
            counts["check-jsonschema"] = count(cmd, root / "cg-check", REPO)
    for name, total in counts.items():
        print(f"  {name:36s} {total / 1e9:7.3f} G instructions  {total / args.specs:9.0f} per spec")
    check = counts.get("check-jsonschema")
    for name, total in counts.items():
        if check and name != "check-jsonschema":
            print(f"  ratio {name} / check-jsonschema: {total / check:.3f}")


if __name__ == "__main__":
    main()
