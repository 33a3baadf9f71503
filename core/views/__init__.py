"""The views of a Document: the annotated HTML page (``html``, with its Jinja2 ``templates``)
and the terminal view (``terminal``). They read the engine (``copydesk.document``,
``copydesk.layers``); the engine never imports them.
"""
