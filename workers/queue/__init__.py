"""The queue side: the Redis store (``store``, its Lua ``scripts`` and ``keys``), the client
that submits and reads back (``client``), compact storage, connections, the eviction check,
the fleet of workers, stage metrics, partial Documents and the message ``protocol``.

Used by the worker, the gateway and the queue's CLI commands; imports only the engine.
"""
