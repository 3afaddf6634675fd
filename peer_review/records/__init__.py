"""The records database, the long-term system of record: schema, store (idempotent writes), notification
outbox, the one read model of a review's record, and exports.

It imports ``peer_review.domain`` only; the activities write through it, the CLI and the web front end read
through ``read_model``.
"""
