"""The Peer Review service's library, in rooms that each hold one kind of thing.

- ``domain``: pure rules and contracts (no I/O): models, lifecycle, triage, deadlines, findings, notices,
  the audit chain, the staff directory.
- ``temporal``: Temporal plumbing: client, connection, converter, codec, codec server, search attributes,
  activity and queue names, history decoding, metrics, the dev-server launcher.
- ``records``: the records database: schema, store, outbox, the one read model, exports.
- ``cli``: the pieces of the ``peer-review`` command (``starter.py`` assembles them).
- ``web``: the HTTP API and the pages.

Imports flow downwards only: ``worker.py``, ``starter.py``, ``dev.py`` → ``workflows/``, ``activities/`` →
``peer_review``. Nothing in this package imports ``workflows``, ``activities`` or ``worker``
(tests/architecture/test_imports.py checks it).
"""
