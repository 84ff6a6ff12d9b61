"""The load stage: spec files in, plain documents (and their texts) out.

`load_paths` finds `*.yaml` / `*.yml` files under the paths given, reads
each safely (size and alias limits, no Python tags) and returns documents or
diagnostics, never an exception about content.
"""

from batchspec.load.source import Document, LoadResult, load_paths

__all__ = ["Document", "LoadResult", "load_paths"]
