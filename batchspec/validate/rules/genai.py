"""google-genai's own rules: the Gemini Developer API mode and its inputs.

Through Vertex AI, google-genai creates the same BatchPredictionJob as target
vertex, so the Vertex rules apply (see `core.on_vertex_service`). With
`genai.api: gemini` it talks to the Gemini Developer API instead, which reads
inline requests or an uploaded Files API file and returns the results in the
batch job; these are the rules of that mode.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Final

from batchspec.diagnostics import Diagnostic
from batchspec.model.enums import DataFormat
from batchspec.patterns import lazy
from batchspec.validate.rules.core import GENAI, gemini_api, rule

if TYPE_CHECKING:
    from batchspec.model.spec import BatchPredictionJobSpec

# google-genai types.InlinedRequest (model, contents, metadata, config).
INLINED_REQUEST_KEYS: Final = frozenset({"model", "contents", "metadata", "config"})
_FILE: Final = lazy(r"^files/[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$")
_ENV_NAME: Final = lazy(r"^[A-Za-z_][A-Za-z0-9_]*$")

INLINE: Final = rule(
    "gemini-inline-requests",
    "BS237",
    (GENAI,),
    "Inline requests are google-genai InlinedRequest mappings (model, contents, metadata,"
    " config), each with contents; input format JSONL",
    "google-genai types.InlinedRequest; batches._InlinedRequest_to_mldev",
)
FILE: Final = rule(
    "gemini-file-name",
    "BS237",
    (GENAI,),
    "A Files API input is files/ID: up to 40 lowercase letters, digits or dashes, not"
    " starting or ending with a dash",
    "google-genai types.BatchJobSource.file_name; https://ai.google.dev/api/files#File",
)


KEY_ENV: Final = rule(
    "gemini-api-key-env",
    "BS237",
    (GENAI,),
    "genai.apiKeyEnv names the environment variable holding the API key; a key itself"
    " (Google API keys start with AIza) is refused so it never lands in git",
    "google-genai Client(api_key=...); https://cloud.google.com/docs/authentication/api-keys",
)


def gemini_key(doc: BatchPredictionJobSpec) -> Iterator[Diagnostic]:
    """The API key comes from the environment; the spec only names the variable."""
    settings = doc.spec.genai
    if settings is None or settings.api_key_env is None:
        return
    value, where = settings.api_key_env, ("spec", "genai", "apiKeyEnv")
    if value.startswith("AIza"):
        yield KEY_ENV.error(
            "this looks like an API key: a spec names the environment variable, never the key",
            where,
            hint="revoke the key if it was committed; write apiKeyEnv: GEMINI_API_KEY",
        )
    elif not _ENV_NAME.match(value):
        yield KEY_ENV.error(
            f"{value!r} is not an environment variable name",
            where,
            hint="letters, digits and underscores, for example GEMINI_API_KEY",
        )


def gemini_inputs(doc: BatchPredictionJobSpec) -> Iterator[Diagnostic]:
    """Inline requests and Files API names for the Gemini Developer API."""
    if not gemini_api(doc):
        return
    inp, base = doc.spec.input, ("spec", "input")
    if inp.format is not DataFormat.JSONL:
        yield INLINE.error(
            f"the Gemini Developer API reads JSONL requests, not {inp.format.value}",
            (*base, "format"),
            hint="format: JSONL",
        )
    for i, request in enumerate(inp.requests or ()):
        where = (*base, "requests", i)
        for key in sorted(set(request) - INLINED_REQUEST_KEYS):
            yield INLINE.error(
                f"an inline request has no field `{key}`",
                (*where, key),
                hint="fields: " + ", ".join(sorted(INLINED_REQUEST_KEYS)),
            )
        if "contents" not in request:
            yield INLINE.error(
                "an inline request needs `contents`",
                where,
                hint="for example contents: [{role: user, parts: [{text: ...}]}]",
            )
    if inp.file_name is not None and not _FILE.match(inp.file_name):
        yield FILE.error(
            f"{inp.file_name!r} is not a Files API name",
            (*base, "fileName"),
            hint="upload the JSONL file with client.files.upload and use its name, files/ID",
        )


__all__ = ["INLINED_REQUEST_KEYS", "gemini_inputs", "gemini_key"]
