"""One settings module: defaults here, then an optional YAML file, then the environment.

Precedence (last wins): the defaults below, `$NEWSFLOW_HOME/newsflow.yaml` or the file named by
`NEWSFLOW_CONFIG`, then environment variables (`DATABASE_URL`, `NEWSFLOW_*`). Secrets (the database
URL) come from the environment or, under Airflow, from the connection `newsflow_db`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import yaml

from pipeline.errors import ConfigError
from pipeline.yamlfile import yaml_error

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def default_home() -> Path:
    """Where the embedded database and caches live.

    As root, pgserver makes every parent of its data directory world-enterable, so root's default
    is /var/lib/newsflow (whose parents already are) rather than /root/.local/share/newsflow.
    """
    if os.name == "posix" and os.geteuid() == 0:
        return Path("/var/lib/newsflow")
    return Path.home() / ".local" / "share" / "newsflow"


def _config_path(name: str) -> Path:
    for candidate in (PROJECT_ROOT / "config" / name, Path(__file__).resolve().parent / "_config" / name):
        if candidate.exists():
            return candidate
    return PROJECT_ROOT / "config" / name


@dataclass(frozen=True)
class Settings:
    database_url: str | None = None
    home: Path = field(default_factory=default_home)
    feeds_file: Path = field(default_factory=lambda: _config_path("feeds.yaml"))
    topics_file: Path = field(default_factory=lambda: _config_path("topics.yaml"))
    synonyms_file: Path = field(default_factory=lambda: _config_path("synonyms.yaml"))
    user_agent: str = "newsflow/0.1 (+https://github.com/newsflow/newsflow; news research crawler)"
    # Hosts or CIDR ranges newsflow may fetch from although they are loopback/private.
    allow_private: tuple[str, ...] = ()
    batch_size: int = 50
    http_timeout_s: float = 20.0
    max_page_bytes: int = 5_000_000
    max_redirects: int = 5
    concurrency: int = 16
    per_host_concurrency: int = 2
    per_host_delay_s: float = 1.0
    retries: int = 3
    respect_robots: bool = True
    dedup_window_days: int = 30
    min_article_words: int = 40
    # Processes that extract pages: 1 (the library's and Airflow's default: a task is already one of
    # several) extracts in-process, 0 starts one per CPU core (the CLI's default for `run`, `backfill`,
    # `reextract` and `demo` unless NEWSFLOW_WORKERS says otherwise). Claims and stores stay in the caller.
    workers: int = 1
    # trafilatura's fast mode (no comparison with its fallback extractors): about a quarter less
    # extraction CPU for about half a point of F1 (docs/benchmarks.md); for large backfills. Articles
    # carry the mode in `extractor`, so `newsflow reextract --thorough` redoes them (and the pages it
    # skipped). On the command line `--fast`/`--thorough` override it.
    extract_fast: bool = False
    # Where the nightly brief (`newsflow brief`, the news_brief DAG) is written; None: `briefs` in home.
    brief_dir: Path | None = None

    @property
    def extract_workers(self) -> int:
        """How many processes extract pages (`workers`, else one per core)."""
        return self.workers if self.workers > 0 else max(1, os.cpu_count() or 1)

    @property
    def briefs(self) -> Path:
        """The folder briefs are written to (`brief_dir`, else `$NEWSFLOW_HOME/briefs`)."""
        return self.brief_dir or self.home / "briefs"

    def with_overrides(self, **changes: Any) -> Settings:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


_ENV = {
    "DATABASE_URL": "database_url",
    "NEWSFLOW_HOME": "home",
    "NEWSFLOW_FEEDS": "feeds_file",
    "NEWSFLOW_TOPICS": "topics_file",
    "NEWSFLOW_SYNONYMS": "synonyms_file",
    "NEWSFLOW_USER_AGENT": "user_agent",
    "NEWSFLOW_ALLOW_PRIVATE": "allow_private",
    "NEWSFLOW_BATCH_SIZE": "batch_size",
    "NEWSFLOW_HTTP_TIMEOUT": "http_timeout_s",
    "NEWSFLOW_MAX_PAGE_BYTES": "max_page_bytes",
    "NEWSFLOW_CONCURRENCY": "concurrency",
    "NEWSFLOW_PER_HOST_CONCURRENCY": "per_host_concurrency",
    "NEWSFLOW_PER_HOST_DELAY": "per_host_delay_s",
    "NEWSFLOW_RETRIES": "retries",
    "NEWSFLOW_RESPECT_ROBOTS": "respect_robots",
    "NEWSFLOW_DEDUP_WINDOW_DAYS": "dedup_window_days",
    "NEWSFLOW_BRIEF_DIR": "brief_dir",
    "NEWSFLOW_WORKERS": "workers",
    "NEWSFLOW_EXTRACT_FAST": "extract_fast",
}


def _coerce(name: str, raw: Any, where: str) -> Any:
    kinds = {f.name: f.type for f in fields(Settings)}
    if name not in kinds:
        raise ConfigError(f"{where}: unknown setting {name!r} (known: {', '.join(sorted(kinds))})")
    kind = str(kinds[name])
    try:
        if "Path" in kind:
            return Path(str(raw)).expanduser()
        if "tuple" in kind:
            items = raw.split(",") if isinstance(raw, str) else list(raw)
            return tuple(str(i).strip() for i in items if str(i).strip())
        if kind == "bool":
            if isinstance(raw, bool):
                return raw
            if str(raw).lower() in {"1", "true", "yes", "on"}:
                return True
            if str(raw).lower() in {"0", "false", "no", "off"}:
                return False
            raise ValueError(f"not a boolean: {raw!r}")
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        return None if raw is None else str(raw)
    except ValueError as exc:
        raise ConfigError(f"{where}: setting {name!r}: {exc}") from exc


def load_settings(env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if env is None else env)
    values: dict[str, Any] = {}
    home = Path(env["NEWSFLOW_HOME"]).expanduser() if env.get("NEWSFLOW_HOME") else default_home()
    config = Path(env["NEWSFLOW_CONFIG"]) if env.get("NEWSFLOW_CONFIG") else home / "newsflow.yaml"
    if env.get("NEWSFLOW_CONFIG") and not config.exists():
        raise ConfigError(f"NEWSFLOW_CONFIG names {config}, which does not exist")
    if config.exists():
        try:
            data = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(yaml_error(config, exc)) from exc
        if not isinstance(data, dict):
            raise ConfigError(f"{config}: expected a mapping of setting: value")
        for key, raw in data.items():
            values[key] = _coerce(key, raw, str(config))
    for var, name in _ENV.items():
        if env.get(var):
            values[name] = _coerce(name, env[var], f"environment variable {var}")
    return Settings(**values)
