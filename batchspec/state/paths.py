"""Where the state file is: `--state`, else `$BATCHSPEC_STATE`, else the default."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_STATE_PATH = Path(".batchspec") / "state.db"
STATE_ENV = "BATCHSPEC_STATE"


def resolve_state_path(flag: str | os.PathLike[str] | None = None) -> Path:
    """The state file to use, by precedence: flag, environment, default."""
    if flag:
        return Path(flag)
    env = os.environ.get(STATE_ENV)
    if env:
        return Path(env)
    return DEFAULT_STATE_PATH
