"""Backfill sources: readers that turn an archive into raw pages (WARC, saved HTML) or into frontier
URLs (XML sitemaps, URL lists). `pipeline.jobs.backfill` drives them."""
