"""A deliberately slow stage with a big "model", for ``bench/routing.py``.

``slow`` sleeps ``seconds`` per article (a model on another device, or a rate-limited
service: the worker process waits, the CPU does not) and holds ``model_mb`` of memory from
``setup()`` on, as a model would. The bench installs it as a plugin (a ``.dist-info`` on
``PYTHONPATH``), exactly as pip would.
"""

from __future__ import annotations

import time

from copydesk import Document, Stage, StageConfig, hookimpl


class SlowConfig(StageConfig):
    seconds: float = 0.2
    model_mb: int = 300


class SlowStage(Stage[SlowConfig]):
    name = "slow"
    requires = ("text",)
    provides = ("slow",)
    description = "Sleeps per article and holds a big model (bench/routing.py)."

    def setup(self) -> None:
        # touched page by page, so the memory is really resident
        self.model = bytearray(self.config.model_mb * 1024 * 1024)
        for i in range(0, len(self.model), 4096):
            self.model[i] = 1

    def process(self, doc: Document) -> None:
        time.sleep(self.config.seconds)
        doc.extensions["slow"] = {"chars": len(doc.text)}


@hookimpl
def register_stages() -> list[type[Stage]]:
    return [SlowStage]
