"""ruamel.yaml, the reference for what a spec means: it parses the texts
the fast parser cannot vouch for (`batchspec.load.fastyaml`).

Apart from `batchspec.load.source`, which is compiled (`batchspec._native`):
the resolver below subclasses one of ruamel's, imported only when a text
needs the reference, and a compiled module cannot define a class inside a
function.
"""

from __future__ import annotations

import functools
import warnings
from typing import Any


@functools.cache
def _reference_loader(*, pure: bool) -> Any:
    """ruamel.yaml's safe loader: the reference for what a spec means, used
    when the fast parser cannot vouch for a text (`batchspec.load.fastyaml`).
    Its C-backed variant reads first (it crashes only on nesting far past
    what `batchspec.load.guard` lets through); the pure-Python one, stricter
    in nothing, has the last word when it fails."""
    from ruamel.yaml import YAML
    from ruamel.yaml.resolver import VersionedResolver

    class Yaml12Resolver(VersionedResolver):
        """Specs are YAML 1.2. Pinning the version skips ruamel's per-scalar
        version lookup, which fails (slowly, by exception) under the C parser."""

        @property
        def processing_version(self) -> tuple[int, int]:
            return (1, 2)

    yaml = YAML(typ="safe", pure=pure)
    yaml.Resolver = Yaml12Resolver
    return yaml


def parse_reference(text: str) -> list[Any]:
    """Every document of `text`, as the reference parser reads it (raises on
    what it refuses: the caller words the diagnostic)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return list(_reference_loader(pure=False).load_all(text))
        except Exception:
            # libyaml (under ruamel's C loader) is YAML 1.1 and stricter in
            # places; only the pure-Python parser's verdict counts.
            return list(_reference_loader(pure=True).load_all(text))


__all__ = ["parse_reference"]
