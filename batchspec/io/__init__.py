"""Reading and writing the places batch jobs read from and write to.

`storage` handles local paths and `gs://` through fsspec/gcsfs; `bigquery`
handles `bq://` tables through google-cloud-bigquery. Both import their client
libraries only when used.
"""
