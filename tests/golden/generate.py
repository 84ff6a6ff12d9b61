"""Golden renderings of every example spec for every target.

For each spec in `specs/` and each target, the golden file is exactly what
`batchspec render --target T --no-check` prints (a recurring spec's with
`--run-at`, at `RUN_AT`): `<job>.<target>.json` when
the spec compiles for that target, `<job>.<target>.diagnostics.txt` (the
stderr report) when it does not. Reviewing a change then means reading a diff.

Regenerate with `scripts/regen-golden` (or `python -m tests.golden.generate`);
`tests/golden/test_golden.py` fails when a file is stale, missing or extra.
The environment never leaks in: project and region come only from the specs.
"""

from __future__ import annotations

import contextlib
import sys
from datetime import datetime
from pathlib import Path

from batchspec.cli.render import format_documents, render_document
from batchspec.compile import compile_paths
from batchspec.diagnostics import sort_key
from batchspec.model.enums import Target
from batchspec.validate import validate_paths
from batchspec.validate.report import render_text

REPO = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).resolve().parent
SUFFIXES = (".json", ".diagnostics.txt")
# A recurring spec renders as one run; left to the clock that is its next
# tick, and every golden file would go stale each night. This is a tick of
# the nightly example (02:00 on the schedule's wall clock).
RUN_AT = datetime(2026, 12, 4, 2, 0)


def generate() -> dict[Path, str]:
    """Relative golden path -> expected text, for every spec and target."""
    out: dict[Path, str] = {}
    with contextlib.chdir(REPO):
        for file in sorted(Path("specs").glob("*.yaml")):
            result = validate_paths([str(file)])
            assert result.ok, f"{file} is not a valid example spec"
            for target in Target:
                compiled = compile_paths(result, target=target, env={})
                for job in compiled.jobs:
                    stem = Path(file.stem) / f"{job.name}.{target.value}"
                    out[Path(f"{stem}.json")] = format_documents(
                        [render_document(job, run_at=RUN_AT)], "json"
                    )
                for failure in compiled.failures:
                    stem = Path(file.stem) / f"{failure.name}.{target.value}"
                    ordered = sorted(failure.diagnostics, key=sort_key)
                    text = render_text(ordered, files=1, specs=0)
                    body = "\n".join(text.splitlines()[:-1])  # drop the summary line
                    out[Path(f"{stem}.diagnostics.txt")] = body + "\n"
    return out


def existing() -> dict[Path, str]:
    """Golden files on disk."""
    return {
        path.relative_to(GOLDEN): path.read_text(encoding="utf-8")
        for path in sorted(GOLDEN.rglob("*"))
        if path.is_file() and path.name.endswith(SUFFIXES)
    }


def main() -> int:
    """Write every golden file and remove stale ones; print what changed."""
    wanted, found = generate(), existing()
    for rel, text in wanted.items():
        if found.get(rel) != text:
            target = GOLDEN / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            print(("updated " if rel in found else "created ") + str(rel))
    for rel in sorted(set(found) - set(wanted)):
        (GOLDEN / rel).unlink()
        print(f"removed {rel}")
    print(f"{len(wanted)} golden file(s) in {GOLDEN.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["generate", "render_document"]
