"""newsflow: news ingestion for conflict analysts. `pipeline` is the library; DAGs and the CLI call it."""
