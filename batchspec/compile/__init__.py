"""The compile stage: a validated spec becomes the exact request for one target.

    compile_paths(paths, ...)      ->  Compiled(jobs, failures, diagnostics)
    compile_spec(doc, target=...)  ->  CompiledJob(body, fingerprint, labels, parent, effective)

`paths.compile_paths` is the front door every caller uses (validate, select,
compile, collect); `build.compile_spec` compiles one typed spec.

Each target is a pure function from the effective spec to a body
(`mlengine.mlengine_body`, `vertex.vertex_body`, `genai.genai_body`,
`local.local_body`, `local.ray_body`). Around them: `prepare` settles target,
project and region and refuses what the target cannot run (never a half-built
body), and `identity` adds batchspec's labels (and the ML Engine job id) after
the fingerprint is taken.
"""

from __future__ import annotations

from batchspec.compile.build import (
    BUILDERS,
    build,
    compile_diagnostics,
    compile_spec,
    compile_with_diagnostics,
    parent_of,
)
from batchspec.compile.fingerprint import canonical_json, fingerprint
from batchspec.compile.identity import (
    managed_labels,
    mlengine_job_id,
    request_fingerprint,
    strip_identity,
)
from batchspec.compile.paths import Compiled, Failure, compile_paths

__all__ = [
    "BUILDERS",
    "Compiled",
    "Failure",
    "build",
    "canonical_json",
    "compile_diagnostics",
    "compile_paths",
    "compile_spec",
    "compile_with_diagnostics",
    "fingerprint",
    "managed_labels",
    "mlengine_job_id",
    "parent_of",
    "request_fingerprint",
    "strip_identity",
]
