"""Deterministic synthetic customer reviews (demo inputs and benchmarks).

`python -m batchspec.demo.reviews OUT_DIR --count 3000 --files 3` writes
`reviews-00000.jsonl ...`, one review per line:

    {"review_id": "r-0000001", "product": "kettle", "stars": 4, "text": "..."}

The same arguments always write the same bytes (a seeded generator), so the
committed demo data can be regenerated and checked.
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

PRODUCTS = [
    "kettle", "headphones", "backpack", "desk lamp", "coffee grinder", "running shoes",
    "blender", "phone case", "office chair", "water bottle", "keyboard", "toaster",
]  # fmt: skip
GOOD = [
    "works perfectly", "is absolutely wonderful", "exceeded my expectations",
    "is great value for money", "feels sturdy and well made", "arrived quickly and works",
    "is the best purchase I made this year", "is lovely and easy to use",
]  # fmt: skip
BAD = [
    "broke after two days", "is a terrible disappointment", "stopped working",
    "feels cheap and flimsy", "was a waste of money", "arrived damaged",
    "is awful and noisy", "never worked properly",
]  # fmt: skip
MEH = [
    "does the job", "is okay I guess", "is about what you would expect",
    "is fine for the price", "looks like the pictures", "came in a box",
]  # fmt: skip
ENDINGS = [
    "", " Would buy again!", " Not recommended.", " Customer service was helpful.",
    " Shipping took a week.", " My kids love it.", " I returned it.", " :)",
]  # fmt: skip


def generate(count: int, *, seed: int = 0, start: int = 0) -> Iterator[dict[str, Any]]:
    """`count` reviews; review ids start after `start`."""
    rng = random.Random(seed * 1_000_003 + start)
    for i in range(start, start + count):
        product = rng.choice(PRODUCTS)
        mood = rng.random()
        if mood < 0.5:
            stars, phrase = rng.choice([4, 5]), rng.choice(GOOD)
        elif mood < 0.8:
            stars, phrase = rng.choice([1, 2]), rng.choice(BAD)
        else:
            stars, phrase = 3, rng.choice(MEH)
        text = f"The {product} {phrase}.{rng.choice(ENDINGS)}"
        yield {"review_id": f"r-{i + 1:07d}", "product": product, "stars": stars, "text": text}


def write_files(folder: Path, count: int, files: int, *, seed: int = 0) -> list[Path]:
    """Split `count` reviews over `files` JSONL files named reviews-NNNNN.jsonl."""
    folder.mkdir(parents=True, exist_ok=True)
    per, extra = divmod(count, files)
    written = []
    start = 0
    for f in range(files):
        n = per + (1 if f < extra else 0)
        path = folder / f"reviews-{f:05d}.jsonl"
        with open(path, "w", encoding="utf-8", newline="\n") as fh:
            for review in generate(n, seed=seed, start=start):
                fh.write(json.dumps(review, ensure_ascii=False) + "\n")
        written.append(path)
        start += n
    return written


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--files", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    for path in write_files(args.folder, args.count, args.files, seed=args.seed):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
