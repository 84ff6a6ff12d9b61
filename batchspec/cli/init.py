"""`batchspec init [DIR]`: a starter project that validates, plans and runs.

Writes one local spec (with its small model and input data, so `batchspec
apply --target local --wait` works at once with no cloud account), one Vertex
AI spec to fill in, the editor association of the JSON Schema, a
`.pre-commit-config.yaml` and the GitHub workflow. The files come from the
package's data (`batchspec/data/init/`); the workflow is the very file this
repository runs (`.github/workflows/batchspec.yml`, packaged as a link, so
there is one copy), with its install steps pointed at the released package
instead of a source checkout.

Nothing is ever overwritten: when any target exists, init lists them all,
writes nothing and exits 1.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

# target path (relative to DIR) -> template file in batchspec/data/init/
FILES: dict[str, str] = {
    "specs/tickets_local.yaml": "tickets_local.yaml",
    "specs/tickets_vertex.yaml": "tickets_vertex.yaml",
    "models/ticket_priority.py": "ticket_priority.py",
    "data/tickets/tickets-00000.jsonl": "tickets-00000.jsonl",
    ".vscode/settings.json": "vscode-settings.json",
    ".pre-commit-config.yaml": "pre-commit-config.yaml",
    ".github/workflows/batchspec.yml": "github-workflow.yml",
    ".gitignore": "gitignore",
}

# `pip install .` / `pip install ".[a,b]"` in the repository's own workflow
# installs the checkout; a project made by init installs the package.
_PIP_SOURCE = re.compile(r"""pip install (["']?)\.(\[[^\]\s"']*\])?\1(?=\s|$)""")


def run(args: argparse.Namespace) -> int:
    """Write the files, or refuse when any exists."""
    from batchspec.errors import BatchspecError

    root = Path(args.dir)
    if root.exists() and not root.is_dir():
        raise BatchspecError(f"{root} exists and is not a folder")
    existing = [rel for rel in FILES if (root / rel).exists() or (root / rel).is_symlink()]
    if existing:
        print(
            f"error: init writes nothing: {len(existing)} file(s) exist in {root}:", file=sys.stderr
        )
        for rel in existing:
            print(f"  {root / rel}", file=sys.stderr)
        print("  hint: move them away, or run `batchspec init` in another folder", file=sys.stderr)
        return 1
    contents = {rel: render(template) for rel, template in FILES.items()}
    for rel, text in contents.items():
        target = root / rel
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "x", encoding="utf-8") as fh:  # never overwrite, even racing
                fh.write(text)
        except OSError as exc:
            raise BatchspecError(f"cannot write {target}: {exc.strerror or exc}") from None
        print(f"  wrote {target}")
    where = "" if root == Path(".") else f"cd {root} && "
    print(
        f"\nNext: {where}batchspec validate && batchspec plan && "
        "batchspec apply --target local --wait"
    )
    return 0


def render(template: str) -> str:
    """A template's text as init writes it."""
    text = template_text(template)
    if template == "github-workflow.yml":
        text = pin_install(text)
    return text


def template_text(name: str) -> str:
    """A file of `batchspec/data/init/` (read through importlib.resources, so
    it works from a wheel as from a checkout)."""
    from importlib.resources import files

    return (files("batchspec") / "data" / "init" / name).read_text(encoding="utf-8")


def pin_install(workflow: str) -> str:
    """Install steps of the workflow name the released package at this version."""
    from batchspec import __version__

    return _PIP_SOURCE.sub(
        lambda m: f'pip install "batchspec{m.group(2) or ""}=={__version__}"', workflow
    )
