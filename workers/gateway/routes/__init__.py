"""The gateway's routes, one module per group: ``articles`` (submit, read, view), ``events``
(Server-Sent Events), ``stories`` (the story index), ``operations`` (health, readiness,
coverage, metrics), ``ui`` (the index page and its forms) and ``docs`` (the OpenAPI document
and its UI). Each has ``router(gw)``, which ``workers.gateway.app`` includes."""
