"""Review sentiment with VADER, a lexicon model that ships with its lexicon.

Used by `specs/review_sentiment.yaml` as `batchspec.demo.sentiment:SentimentModel`.
An instance is a review object with a `text` field (the key field has already
been taken out by the engine) or a bare string (TEXT input). The prediction:

    {"label": "positive" | "negative" | "neutral", "score": compound in [-1, 1],
     "positive": ..., "negative": ..., "neutral": ...}

with VADER's usual thresholds (compound >= 0.05 positive, <= -0.05 negative).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

POSITIVE = 0.05


class SentimentModel:
    """Scores a batch of reviews; one analyzer per worker process."""

    def __init__(self, text_field: str = "text", threshold: float = POSITIVE) -> None:
        try:
            from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
        except ImportError as exc:
            raise ImportError(
                "the sentiment demo model needs vaderSentiment: pip install 'batchspec[sentiment]'",
                name="vaderSentiment",
            ) from exc
        self._scores = SentimentIntensityAnalyzer().polarity_scores
        self.text_field = text_field
        self.threshold = threshold

    def _text(self, instance: Any) -> str:
        text = instance if isinstance(instance, str) else instance.get(self.text_field)
        if not isinstance(text, str):
            raise TypeError(f"a review needs a string {self.text_field!r}, got {text!r}")
        return text

    def predict(self, instances: Sequence[Any]) -> list[dict[str, Any]]:
        """One sentiment object per review."""
        out = []
        for instance in instances:
            s = self._scores(self._text(instance))
            compound = s["compound"]
            if compound >= self.threshold:
                label = "positive"
            elif compound <= -self.threshold:
                label = "negative"
            else:
                label = "neutral"
            out.append(
                {
                    "label": label,
                    "score": compound,
                    "positive": s["pos"],
                    "negative": s["neg"],
                    "neutral": s["neu"],
                }
            )
        return out
