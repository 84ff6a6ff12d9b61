"""The look stage: recorded state, specs and results as pages a person reads.

`batchspec ui` serves them live on a local port (`app`, `server`);
`batchspec report --html` writes the same pages into one self-contained file
(`report`). Both read only: the state store through its read API on one
thread (`source`), the local engine's job folders for live progress
(`live`), and job outputs through `batchspec.results`, sampled (`samples`).
What the pages show is built as plain data first (`rows`, `detail`,
`plots`), then rendered by Jinja2 templates with autoescaping, so the HTML,
the JSON endpoints and the report cannot disagree.

Nothing here is imported by the other stages, and nothing heavy is imported
at module level of the packages `batchspec validate` loads: the web stack
(Starlette, uvicorn, Jinja2, Plotly's JavaScript) comes with the `ui` extra.
"""
