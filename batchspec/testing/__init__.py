"""Test support that ships with batchspec, for its own tests, `bench/` and
the tests of programs built on it. Import the modules themselves (`from
batchspec.testing.specs import spec_doc`); nothing here is imported by
batchspec's own stages.

* `batchspec.testing.specs`: spec documents and compiled jobs, one builder;
* `batchspec.testing.backend`: the counting backend, a `Backend` in memory
  with injected faults and call counts, as a service with request ids
  (`FakeBackend`) or without them, looking up before each create as Vertex
  AI must (`ListingBackend`); `batchspec.testing.files` keeps its service in
  a file shared by processes;
* `batchspec.testing.cloud`: a local HTTP double of the Vertex AI,
  google-genai and ML Engine REST APIs that the real Google client libraries
  talk to (needs the `vertex` extra);
* `batchspec.testing.clock`: a clock that moves only when told to;
* `batchspec.testing.state`: put jobs into a state store as `apply` would.
"""
