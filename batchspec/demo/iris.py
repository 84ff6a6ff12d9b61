"""The scikit-learn demo: iris species from four measurements.

`python -m batchspec.demo.iris` trains a LogisticRegression on the iris
dataset bundled with scikit-learn (nothing downloaded), saves it with joblib
to `batchspec/demo/data/iris_logreg.joblib`, writes the demo input
`data/iris/iris-00000.csv` (the 150 flowers, keyed `id`), and prints the
model's sha256 for the spec (`specs/iris_local.yaml` pins it: unpickling runs
code, so batchspec loads only the pinned file).

`rows(n)` makes any number of synthetic flowers for the benchmark.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import random
from collections.abc import Iterator
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
MODEL_PATH = DATA / "iris_logreg.joblib"
FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


def train(path: Path = MODEL_PATH) -> str:
    """Train, save, return the file's sha256."""
    import joblib
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    iris = load_iris()
    labels = iris.target_names[iris.target]
    model = LogisticRegression(max_iter=1000).fit(iris.data, labels)
    path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, path)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_csv(path: Path) -> None:
    """The real 150 flowers as CSV with a quoted header and a quoted `id` key."""
    from sklearn.datasets import load_iris

    iris = load_iris()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
        writer.writerow(["id", *FEATURES])
        for i, row in enumerate(iris.data):
            writer.writerow([f"iris-{i + 1:03d}", *(float(v) for v in row)])


# Class means and spreads of the four measurements (rounded from the dataset).
_CLASSES = [
    ((5.0, 3.4, 1.5, 0.2), (0.35, 0.38, 0.17, 0.1)),
    ((5.9, 2.8, 4.3, 1.3), (0.52, 0.31, 0.47, 0.2)),
    ((6.6, 3.0, 5.6, 2.0), (0.64, 0.32, 0.55, 0.27)),
]


def rows(count: int, *, seed: int = 0) -> Iterator[tuple[str, list[float]]]:
    """(id, measurements) of `count` synthetic flowers."""
    rng = random.Random(seed)
    for i in range(count):
        means, spreads = _CLASSES[rng.randrange(3)]
        values = [round(max(0.1, rng.gauss(m, s)), 1) for m, s in zip(means, spreads, strict=True)]
        yield f"f-{i + 1:08d}", values


def main(argv: list[str] | None = None) -> int:
    """Train the model and write the demo CSV."""
    parser = argparse.ArgumentParser(description="train the iris demo model")
    parser.add_argument("--csv", type=Path, default=Path("data/iris/iris-00000.csv"))
    args = parser.parse_args(argv)
    sha = train()
    write_csv(args.csv)
    print(f"{MODEL_PATH}\nsha256: {sha}\n{args.csv}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
