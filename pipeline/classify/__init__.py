"""Stage `classify`: topic labels from the taxonomy. See docs/classification.md.

load_taxonomy(path) -> Taxonomy
get_classifier(taxonomy, cache_dir) -> Classifier      # .version, .classify([(title, text)]) -> [Labels]
classify_articles(conn, article_ids, taxonomy_path, cache_dir) -> counts
"""

from pipeline.classify.models import (
    Classifier,
    Labels,
    LinearClassifier,
    RuleClassifier,
    get_classifier,
)
from pipeline.classify.store import classify_articles, stale_article_ids, sync_topics
from pipeline.classify.taxonomy import Taxonomy, Topic, load_taxonomy

__all__ = [
    "Classifier",
    "Labels",
    "LinearClassifier",
    "RuleClassifier",
    "Taxonomy",
    "Topic",
    "classify_articles",
    "get_classifier",
    "load_taxonomy",
    "stale_article_ids",
    "sync_topics",
]
