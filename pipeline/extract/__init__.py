"""Stage `extract`: stored raw pages -> articles with clean text and trustworthy metadata.

`core` extracts one page (pure: trafilatura plus boilerplate rules, `text`, `lines`, `metadata`,
`decode`, `language`, site profiles in `boilerplate`), `articles` turns a batch of raw pages into
article rows, and `store` is the only module with SQL for `articles`, `article_urls` and the site
profiles. `evaluate`/`scoring` score extraction against benchmarks.
"""

from pipeline.extract.articles import extract_pages, reextract_articles
from pipeline.extract.core import EXTRACTOR_VERSION, Extraction, extract, extract_many, extractor_version

__all__ = [
    "EXTRACTOR_VERSION", "Extraction", "extract", "extract_many", "extract_pages", "extractor_version",
    "reextract_articles",
]  # fmt: skip
