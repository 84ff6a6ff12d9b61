"""Build batchspec, compiling the modules `batchspec._native.COMPILED` lists
with mypyc where it can (a C compiler and mypy, which the build requires):
the sources ship either way and are what runs when compiling fails."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from setuptools import setup
from setuptools.command.build_ext import build_ext

sys.path.insert(0, str(Path(__file__).resolve().parent))
from batchspec import _native

# mypy reads no configuration here: the build environment holds mypy only,
# so third-party imports are unknown types (pydantic, yaml-rs, ...), checked
# by `mypy batchspec` in the tests rather than at build time.
MYPY_ARGS = ["--config-file=", "--ignore-missing-imports", "--follow-imports=silent"]


class BuildNative(build_ext):
    """build_ext that writes the record of what it compiled, beside the
    modules (the source tree for an editable install, the wheel otherwise),
    and that keeps going without the compiled modules when they fail."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:
            self.warn(f"batchspec: compiling with mypyc failed, installing Python only: {exc}")
            return
        if self.extensions:
            root = Path(self.build_lib if not self.inplace else ".") / "batchspec"
            root.mkdir(parents=True, exist_ok=True)
            (root / _native.RECORD.name).write_text(_native.record_text(), encoding="ascii")


def extensions() -> list[Any]:
    if _in_place():
        _remove_stale()
    if os.environ.get(_native.PURE_ENV, "") not in ("", "0"):
        return []
    if _built_in_place():
        print(
            "batchspec: the compiled modules match the sources; not compiling again",
            file=sys.stderr,
        )
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:
        print("batchspec: mypyc is not installed; installing Python only", file=sys.stderr)
        return []
    paths = [str(_native.source_of(m).relative_to(Path.cwd())) for m in _native.COMPILED]
    try:
        return list(mypycify([*MYPY_ARGS, *paths], opt_level="3", group_name="batchspec._compiled"))
    except (Exception, SystemExit) as exc:
        print(f"batchspec: mypyc could not compile, installing Python only: {exc}", file=sys.stderr)
        return []


def _built_in_place() -> bool:
    """Whether this source tree holds compiled modules built from its
    sources as they are (an editable install run again, as `scripts/setup`
    does before every test run): compiling takes minutes."""
    if not _in_place() or not _native.compiled_usable():
        return False
    return all(
        list(_native.source_of(m).parent.glob(f"{m.rsplit('.', 1)[-1]}.*.so"))
        for m in _native.COMPILED
    )


def _in_place() -> bool:
    """Whether this build puts compiled modules in the source tree (an
    editable install), not in a wheel to ship."""
    return "editable_wheel" in sys.argv or "--inplace" in sys.argv


def _remove_stale() -> None:
    """Delete compiled modules of this source tree that the list no longer
    names: the import system prefers one to the source beside it, and
    `batchspec._native` redirects only the modules it lists."""
    keep = {*_native.COMPILED, "batchspec._compiled__mypyc"}
    package = _native.PACKAGE
    for built in package.rglob("*.so"):
        relative = built.relative_to(package.parent)
        module = ".".join((*relative.parent.parts, built.name.split(".", 1)[0]))
        if module not in keep:
            print(f"batchspec: removing {relative}, no longer compiled", file=sys.stderr)
            built.unlink()


setup(ext_modules=extensions(), cmdclass={"build_ext": BuildNative})
