"""The HTTP gateway (``copydesk serve``): the FastAPI app, its event-stream hub, security
headers and page templates.

Imports the queue side, the views and the engine.
"""
