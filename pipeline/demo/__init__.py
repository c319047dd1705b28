"""newsflow's demo news site: a fictional outlet served on 127.0.0.1 for `newsflow demo` and tests."""

from pipeline.demo.site import DemoArticle, DemoSite, feeds_yaml

__all__ = ["DemoArticle", "DemoSite", "feeds_yaml"]
