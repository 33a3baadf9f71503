"""The queue's commands on the ``copydesk`` command line (``worker``, ``submit``, ``status``,
``result``, ``queue``, ``resubmit-dead``, ``serve``, ``reprocess --stored``), added by the
queue plugin's ``register_commands`` hook.
"""
