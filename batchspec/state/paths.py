"""Where the state file is: `--state`, else `$BATCHSPEC_STATE`, else the default."""

from __future__ import annotations

import os
from pathlib import Path

from batchspec.errors import StateError

DEFAULT_STATE_PATH = Path(".batchspec") / "state.db"
STATE_ENV = "BATCHSPEC_STATE"
REMOTE_SCHEMES = ("gs://",)


def resolve_state_path(flag: str | os.PathLike[str] | None = None) -> Path:
    """The state file to use, by precedence: flag, environment, default.

    Remote state (`gs://...`) is not a file: the commands open it through
    `batchspec.remote`; anything that needs a local file is told so here
    rather than handed a mangled path."""
    chosen = str(flag) if flag else os.environ.get(STATE_ENV)
    if chosen and chosen.startswith(REMOTE_SCHEMES):
        raise StateError(
            f"{chosen} is remote state; this reads a local state file",
            hint="download a copy with `batchspec state pull --out state.db --state"
            f" {chosen}` and point --state at it",
        )
    if chosen:
        return Path(chosen)
    return DEFAULT_STATE_PATH
