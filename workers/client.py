"""``copydesk.workers.client.Client``, the documented way to submit from Python: the client
lives in ``copydesk.workers.queue.client``; this name stays for code that imports it here."""

from copydesk.workers.queue.client import Client, QueueUnavailable, SubmitResult

__all__ = ["Client", "QueueUnavailable", "SubmitResult"]
