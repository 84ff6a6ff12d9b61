"""Test doubles for batchspec users, its own tests and its benchmarks.

* `batchspec.testing.backend`: the counting backend, a `Backend` in memory
  (or in a file shared by processes) with injected faults and call counts,
  as a service with request ids (`FakeBackend`) or without them, listing
  before each create as Vertex AI must (`ListingBackend`);
* `batchspec.testing.cloud`: a local HTTP double of the Vertex AI,
  google-genai and ML Engine REST APIs that the real Google client libraries
  talk to (needs the `vertex` extra);
* `batchspec.testing.clock`: a clock that moves only when told to;
* `batchspec.testing.state`: put jobs into a state store as `apply` would.

Nothing here is imported by batchspec itself.
"""
