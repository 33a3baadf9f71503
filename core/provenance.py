"""Provenance of every stage's layer, and the plan of what a Document needs re-run.

Each entry of ``Document.runs`` records what produced its layer: the stage ``version``, a
``config_hash`` of its validated config, the spaCy ``model`` it read (stages that use the
parse), the ``worker`` that ran it, and a ``fingerprint`` folding those together with the
text it read and the fingerprints of the stages it depends on, so that a change upstream
makes everything downstream stale.

A ``PipelineSpec`` is today's pipeline as data (what each stage would record now); it is
what ``plan`` compares a Document's runs with, and what workers publish to Redis so a
client can plan against the workers' pipeline without building one. ``clear_layers``
removes exactly the layers a set of stages owns, before they run again.

Layer ownership: a stage owns the Document fields of the capabilities it provides
(``text`` → ``text`` and ``removed``; ``headings``, ``entities``, ``numbers``, ``quotes``,
``summary`` → the field of that name) and the ``extensions`` keys named after the stage
or any capability it provides.
"""

from __future__ import annotations

import hashlib
import importlib.metadata as md
import importlib.util
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any, Literal

from copydesk.document import Document, StageRun
from pydantic import BaseModel

TEXT = "text"

StageState = Literal["current", "stale", "missing", "failed", "removed"]
StaleReason = Literal["version", "config", "model", "upstream"]
STALE_REASONS: tuple[StaleReason, ...] = ("version", "config", "model", "upstream")

#: Capabilities that are Document fields; every other capability lives in ``extensions``.
_LIST_LAYERS = ("headings", "entities", "numbers", "quotes")


def digest(text: str) -> str:
    """A short, stable hash of a string (sha256, 32 hex digits)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces: the same value always gives the same string."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str)


def config_hash(config: BaseModel) -> str:
    """The hash of a validated stage config, as canonical JSON (defaults included)."""
    return digest(canonical_json(config.model_dump(mode="json")))[:16]


@lru_cache(maxsize=16)
def model_identity(name: str) -> str:
    """``package==version`` of the installed spaCy pipeline ``name`` loads (read from the
    package metadata, so planning never loads the model)."""
    from copydesk.nlp import MODEL_ALIASES

    for candidate in MODEL_ALIASES.get(name, (name,)):
        if importlib.util.find_spec(candidate) is not None:
            try:
                return f"{candidate}=={md.version(candidate)}"
            except md.PackageNotFoundError:
                return candidate
    return name


def fingerprint(version: str, config: str | None, model: str | None, input_digest: str,
                upstream: Mapping[str, str | None]) -> str:
    """What a run's layer depends on, folded into one hash."""
    return digest(canonical_json({
        "version": version, "config": config, "model": model, "input": input_digest,
        "upstream": dict(sorted(upstream.items())),
    }))


@dataclass(frozen=True)
class StageSpec:
    """One stage of today's pipeline, as its runs would record it."""

    name: str
    plugin: str
    version: str
    config_hash: str
    model: str | None
    provides: tuple[str, ...]
    upstream: tuple[str, ...] = ()
    #: True when the plugin contributes only this stage (its name then names the layer too).
    sole_stage_of_plugin: bool = False

    @property
    def provides_text(self) -> bool:
        return TEXT in self.provides

    def extension_keys(self) -> set[str]:
        """The ``extensions`` keys this stage owns."""
        keys = {self.name, *self.provides}
        if self.sole_stage_of_plugin:
            keys.add(self.plugin)
        return keys

    def input_digest(self, doc: Document) -> str:
        """The digest of what this stage reads: the submitted body for a text stage, else
        the cleaned text."""
        if self.provides_text:
            return digest(doc.html if doc.html is not None else doc.raw_text)
        return digest(doc.text)

    def fingerprint_for(self, doc: Document, runs: Mapping[str, StageRun],
                        version: str | None = None, config: str | None = None,
                        model: str | None = None, use_spec: bool = True) -> str:
        """The fingerprint of a run of this stage on ``doc`` given the upstream ``runs``."""
        upstream = {u: (runs[u].fingerprint if u in runs else None) for u in self.upstream}
        if use_spec:
            version, config, model = self.version, self.config_hash, self.model
        return fingerprint(version or "", config, model, self.input_digest(doc), upstream)


@dataclass(frozen=True)
class PipelineSpec:
    """Today's pipeline as data, in run order."""

    stages: tuple[StageSpec, ...]

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.stages]

    def get(self, name: str) -> StageSpec | None:
        return next((s for s in self.stages if s.name == name), None)

    def to_json(self) -> str:
        return canonical_json({"stages": [asdict(s) for s in self.stages]})

    @classmethod
    def from_json(cls, raw: str | bytes) -> PipelineSpec:
        data = json.loads(raw)
        return cls(tuple(
            StageSpec(**{**s, "provides": tuple(s["provides"]),
                         "upstream": tuple(s.get("upstream", ()))})
            for s in data["stages"]
        ))


@dataclass(frozen=True)
class StagePlan:
    """What today's pipeline makes of one stage of a Document."""

    stage: str
    state: StageState
    reasons: tuple[StaleReason, ...] = ()

    @property
    def must_run(self) -> bool:
        return self.state in ("stale", "missing", "failed")

    @property
    def label(self) -> str:
        """``current``, ``stale (config)``, ``missing``… for tables and logs."""
        if self.state == "stale":
            return f"stale ({', '.join(self.reasons)})"
        return self.state


@dataclass
class Plan:
    """Per stage of today's pipeline: current, stale (why), missing or failed; plus the
    stages a Document has runs of that today's pipeline no longer has (``removed``)."""

    document_id: str
    stages: list[StagePlan] = field(default_factory=list)
    #: A text stage must re-run but the Document does not hold the input it read (HTML).
    needs_source: bool = False

    @property
    def to_run(self) -> list[str]:
        return [s.stage for s in self.stages if s.must_run]

    @property
    def removed(self) -> list[str]:
        return [s.stage for s in self.stages if s.state == "removed"]

    @property
    def changes(self) -> bool:
        """True when reprocessing would change the Document."""
        return bool(self.to_run or self.removed)

    def state_of(self, stage: str) -> StagePlan | None:
        return next((s for s in self.stages if s.stage == stage), None)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.document_id, "to_run": self.to_run, "removed": self.removed,
                "needs_source": self.needs_source,
                "stages": {s.stage: s.label for s in self.stages}}


def latest_runs(doc: Document) -> dict[str, StageRun]:
    """The last run of each stage in ``doc.runs``."""
    return {run.stage: run for run in doc.runs}


def plan(doc: Document, spec: PipelineSpec) -> Plan:
    """What today's pipeline ``spec`` must run on ``doc``: the stale, missing and failed
    stages, and every stage that depends on one of them."""
    runs = latest_runs(doc)
    out = Plan(document_id=doc.id)
    must: set[str] = set()
    for stage in spec.stages:
        run = runs.get(stage.name)
        verdict = _judge(stage, run, runs, doc, must)
        if verdict.must_run:
            must.add(stage.name)
            if stage.provides_text and run is not None and not _reads_raw_text(stage, run,
                                                                               runs, doc):
                out.needs_source = True
        out.stages.append(verdict)
    known = set(spec.names)
    for name in dict.fromkeys(r.stage for r in doc.runs):
        if name not in known:
            out.stages.append(StagePlan(name, "removed"))
    return out


def _judge(stage: StageSpec, run: StageRun | None, runs: Mapping[str, StageRun],
           doc: Document, must: set[str]) -> StagePlan:
    if run is None:
        return StagePlan(stage.name, "missing")
    if run.status == "failed":
        return StagePlan(stage.name, "failed")
    reasons: list[StaleReason] = []
    if run.version != stage.version:
        reasons.append("version")
    if run.config_hash != stage.config_hash:
        reasons.append("config")
    if (run.model or None) != (stage.model or None):
        reasons.append("model")
    if any(u in must for u in stage.upstream):
        reasons.append("upstream")
    elif not reasons and not stage.provides_text and run.fingerprint != stage.fingerprint_for(
            doc, runs):
        # the text or an upstream layer is not what this run read
        reasons.append("upstream")
    if reasons:
        return StagePlan(stage.name, "stale", tuple(reasons))
    return StagePlan(stage.name, "current")


def _reads_raw_text(stage: StageSpec, run: StageRun, runs: Mapping[str, StageRun],
                    doc: Document) -> bool:
    """Whether the text stage's last run read ``raw_text`` (so it can run again on it)."""
    if doc.html is not None:
        return True
    if run.fingerprint is None:  # no provenance: judge by the text stage's own mark
        return doc.raw_text != "" and (doc.extensions.get("cleaning") or {}).get(
            "input", "text") != "html"
    expected = stage.fingerprint_for(doc, runs, run.version, run.config_hash, run.model,
                                     use_spec=False)
    return expected == run.fingerprint


def clear_layers(doc: Document, stages: Iterable[StageSpec | StageRun],
                 spec: PipelineSpec) -> None:
    """Remove the layers of ``stages`` and their runs from ``doc``, and nothing else."""
    names = set()
    for item in stages:
        name = item.name if isinstance(item, StageSpec) else item.stage
        names.add(name)
        owner = item if isinstance(item, StageSpec) else spec.get(name)
        # a stage today's pipeline no longer has: its layer is the one named after it
        provides: Sequence[str] = owner.provides if owner else (name,)
        keys = owner.extension_keys() if owner else {name}
        for cap in provides:
            if cap == TEXT:
                doc.text = doc.raw_text
                doc.removed = []
            elif cap in _LIST_LAYERS:
                setattr(doc, cap, [])
            elif cap in ("summary", "reuse", "story"):
                setattr(doc, cap, None)
        for key in keys:
            doc.extensions.pop(key, None)
    doc.runs = [r for r in doc.runs if r.stage not in names]
