"""Offline demo models and data: runnable with no cloud account and nothing
downloaded at run time.

* `sentiment.SentimentModel`: VADER review sentiment (the customer-review
  sentiment example of batch prediction); needs `pip install 'batchspec[sentiment]'`.
* `iris`: a scikit-learn LogisticRegression trained on the iris dataset that
  ships with scikit-learn, saved with joblib in `demo/data/`; needs
  `pip install 'batchspec[sklearn]'`.
* `reviews`: deterministic synthetic customer reviews for the demo inputs and
  the benchmarks.
"""
