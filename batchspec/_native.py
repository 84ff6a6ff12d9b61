"""Compiled forms of the modules `batchspec validate` spends its time in,
and when to use them.

Checking a spec is mostly small Python functions: reading it, the fast
parser's guard, the views, the rules. mypyc compiles those modules (the list is `COMPILED`)
to C extension modules when batchspec is installed (`setup.py`; skipped,
with a warning, where there is no C compiler), which does the same work in
fewer instructions. The Python sources stay the reference and ship beside
them: this module decides at `import batchspec` which of the two is used.

Compiled modules call each other directly, not through their module
attributes, so they are used together or not at all. They are used only
when the build's record (`batchspec/_native.txt`: each module's source
checksum) matches the sources on disk. An editable install whose sources
were edited or checked out since the build, or `BATCHSPEC_PURE=1` in the
environment, imports every module of the list from its `.py` file instead:
an extension module is otherwise found before the source of the same name,
and would run code that no longer exists.
"""

from __future__ import annotations

import os
import sys
import zlib
from importlib.machinery import ModuleSpec
from pathlib import Path
from typing import Any

PACKAGE = Path(__file__).resolve().parent
RECORD = PACKAGE / "_native.txt"
PURE_ENV = "BATCHSPEC_PURE"

COMPILED = (
    "batchspec.diagnostics",
    "batchspec.load.blockpos",
    "batchspec.load.fastyaml",
    "batchspec.load.guard",
    "batchspec.load.source",
    "batchspec.model.view",
    "batchspec.model.viewvalues",
    "batchspec.validate.fastlane",
    "batchspec.validate.validator",
    "batchspec.validate.rules.access",
    "batchspec.validate.rules.common",
    "batchspec.validate.rules.core",
    "batchspec.validate.rules.expressible",
    "batchspec.validate.rules.formats",
    "batchspec.validate.rules.genai",
    "batchspec.validate.rules.labels",
    "batchspec.validate.rules.models",
    "batchspec.validate.rules.names",
    "batchspec.validate.rules.recurring",
    "batchspec.validate.rules.resources",
    "batchspec.validate.rules.storage",
)


def source_of(module: str) -> Path:
    """The Python source of a module of `COMPILED`."""
    return PACKAGE.parent.joinpath(*module.split(".")).with_suffix(".py")


def checksum(module: str) -> str:
    """What the build's record holds for `module`: its source's CRC-32 (a
    change detector, read at every start, so cheap: not a hash against
    tampering, which the installed files do not need)."""
    return f"{zlib.crc32(source_of(module).read_bytes()):08x}"


def record_text() -> str:
    """The build's record: one `module checksum` line per compiled module."""
    return "".join(f"{module} {checksum(module)}\n" for module in COMPILED)


def compiled_usable() -> bool:
    """Whether the compiled modules match their sources (and are wanted)."""
    if os.environ.get(PURE_ENV, "") not in ("", "0"):
        return False
    try:
        recorded = RECORD.read_text(encoding="ascii")
        return recorded == record_text()
    except (OSError, ValueError):  # no build, or a source gone: Python it is
        return False


class _FromSource:
    """A meta path finder that imports the modules of `COMPILED` from their
    `.py` files, ahead of the extension modules beside them."""

    names = frozenset(COMPILED)

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> ModuleSpec | None:
        if name not in self.names:
            return None
        from importlib.util import spec_from_file_location

        return spec_from_file_location(name, source_of(name))


def install() -> None:
    """Use the compiled modules when they are current, else their sources.
    Called once, by `batchspec/__init__.py`, before any of them is imported."""
    if not compiled_usable() and not any(isinstance(f, _FromSource) for f in sys.meta_path):
        sys.meta_path.insert(0, _FromSource())


def in_use() -> bool:
    """Whether this process runs the compiled modules (for the tests)."""
    from importlib import import_module  # by name: this module sits below every stage

    module = import_module(COMPILED[0])
    return not str(getattr(module, "__file__", "")).endswith(".py")
