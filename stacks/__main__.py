"""The batchspec Pulumi program. Everything lives in `batchspec.pulumi`;
`pulumi up` runs this file with the project folder as working directory."""

from pathlib import Path

from batchspec.pulumi.program import main

stack = main(Path(__file__).resolve().parent)
