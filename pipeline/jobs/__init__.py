"""The jobs layer: the only code that orchestrates stages and commits. `nightly` is the nightly run
(one function per Airflow task of `news_nightly`, chained by `run_once` for `newsflow run`),
`backfill` loads archives, and `maintenance` re-extracts, relabels and prunes."""
