"""Check that a speed change left `validate`'s output byte for byte as it was.

    python bench/validate_agreement.py [--base main] [--specs 1000]

Writes a corpus (the validate bench's generated specs with their planted
mistakes, every table-driven rule case as a file, the cases again as one
multi-document file, variants with `${env:...}` references, escapes, quotes,
flow values, comments and anchors, and the repository's own specs), then runs
`batchspec validate -o json` on it with the code of `--base` (a git ref,
exported to a temporary folder) and with this checkout, and compares stdout,
stderr and the exit code. The corpus is large enough that both runs take the
parallel path; exits 1 on any difference and keeps both outputs to compare.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.validate_bench import generate  # noqa: E402

VARIANTS = {
    "env_label": ("team: team-", "team: ${env:TEAM}-"),
    "env_escaped": ("team: team-", 'team: "\\x24{env:TEAM}"\n    other: team-'),
    "env_bad": ("maxRetries", "modelParameters: {k: '${env:1x}'}\n    maxRetries"),
    "env_path": ("outputs/", "outputs/${env:OUT}/"),
    "quoted": ("region: us-central1", 'region: "us-centrall"'),
    "flow": ("target: mlengine", "target: [mlengine]"),
    "comment": ("spec:", "spec:   # the spec\n  # more"),
    "anchor": ("maxRetries: ", "maxRetries: &r "),
}


def write_corpus(root: Path, count: int) -> None:
    """The files both code versions validate."""
    from tests.compile.test_validate_agrees import ALL_CASES

    bench = generate(root / "bench", count)
    cases = [yaml.safe_dump(case.document(), sort_keys=False) for case in ALL_CASES]
    for i, text in enumerate(cases):
        (root / "cases" / f"case_{i:04d}.yaml").parent.mkdir(exist_ok=True)
        (root / "cases" / f"case_{i:04d}.yaml").write_text(text)
    (root / "multi.yaml").write_text("---\n".join(cases[:80]))
    base = bench[1].read_text()  # an ML Engine spec: a located warning
    for name, (old, new) in VARIANTS.items():
        (root / "variants" / f"{name}.yaml").parent.mkdir(exist_ok=True)
        (root / "variants" / f"{name}.yaml").write_text(base.replace(old, new))
    (root / "variants" / "multidoc.yaml").write_text(
        base + "---\n" + base.replace("us-central1", "us-centr4l1")
    )
    for spec in (REPO / "specs").glob("*.yaml"):
        (root / spec.name).write_text(spec.read_text())


def validate(code: Path, corpus: Path) -> bytes:
    """stdout, stderr and exit code of `validate -o json` run with `code`."""
    env = dict(os.environ, PYTHONPATH=str(code))
    cmd = [sys.executable, "-m", "batchspec", "validate", "-o", "json", str(corpus)]
    done = subprocess.run(cmd, env=env, capture_output=True, cwd=corpus, check=False)
    return done.stdout + b"\n-- stderr --\n" + done.stderr + f"\nrc={done.returncode}\n".encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base", default="main", help="git ref to compare with")
    parser.add_argument("--specs", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_corpus(root / "corpus", args.specs)
        base = root / "base"
        base.mkdir()
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", args.base], capture_output=True, check=True
        )
        subprocess.run(["tar", "-x", "-C", str(base)], input=archive.stdout, check=True)
        before, after = validate(base, root / "corpus"), validate(REPO, root / "corpus")
    same = before == after
    print(f"{args.base}: {len(before)} bytes; this checkout: {len(after)} bytes;", end=" ")
    print("identical" if same else "DIFFERENT")
    if not same:
        out = Path(tempfile.mkdtemp(prefix="agreement-"))
        (out / "base.txt").write_bytes(before)
        (out / "this.txt").write_bytes(after)
        print(f"outputs kept in {out}")
        sys.exit(1)


if __name__ == "__main__":
    main()
