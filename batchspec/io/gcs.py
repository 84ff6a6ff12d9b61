"""gcsfs with every request bounded.

gcsfs sends each request with no timeout at all (aiohttp's `total=None`) and
retries six times with backoff up to 32 s, both fixed when the class is
defined: against a server that accepts connections and never answers, one
call never returns. Here each instance gets aiohttp connect and read
timeouts, and a subclass re-wraps gcsfs's retried request methods with the
configured number of attempts (`batchspec.io.guard.Limits`). gcsfs is
imported only when a `gs://` URL is used.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from batchspec.io.guard import Limits

# gcsfs's request methods decorated with `retry_request(retries=6)`.
_RETRIED = ("_request", "_get_file_request", "_get_file_concurrent")


@lru_cache(maxsize=8)
def bounded_class(attempts: int) -> type[Any]:
    """GCSFileSystem whose retried requests try at most `attempts` times."""
    from gcsfs.core import GCSFileSystem
    from gcsfs.retry import retry_request

    overrides: dict[str, Any] = {}
    for name in _RETRIED:
        original = getattr(GCSFileSystem.__dict__.get(name), "__wrapped__", None)
        if original is not None:  # a gcsfs without it still gets the timeouts
            overrides[name] = retry_request(retries=attempts)(original)
    # fsspec caches instances per class and arguments; never share them.
    overrides["cachable"] = False
    return type("BoundedGCSFileSystem", (GCSFileSystem,), overrides)


def bounded_gcsfs(endpoint: str | None, bounds: Limits) -> Callable[[], Any]:
    """A function that builds a gcsfs instance for the emulator at `endpoint`
    (anonymous) or for Google (Application Default Credentials, which may
    ask the network), with listings never cached. The libraries are imported
    here, so that only building the instance runs under the call's deadline."""
    import aiohttp

    timeout = aiohttp.ClientTimeout(
        total=None, connect=bounds.timeout, sock_connect=bounds.timeout, sock_read=bounds.timeout
    )
    common: dict[str, Any] = {
        "skip_instance_cache": True,
        "use_listings_cache": False,
        "requests_timeout": timeout,
        "session_kwargs": {"timeout": timeout},
    }
    cls = bounded_class(bounds.attempts)
    if endpoint is not None:
        return lambda: cls(token="anon", endpoint_url=endpoint, **common)
    return lambda: cls(token="google_default", **common)


__all__ = ["bounded_class", "bounded_gcsfs"]
