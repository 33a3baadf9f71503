"""The Celery worker: its configuration (``app``), the tasks, one article lifecycle for a
single task and a batch, leases and lost workers, the kombu transport with its intake check
of every popped message, and routing of stages to queues.

Imports the queue side (``copydesk.workers.queue``) and the engine.
"""
