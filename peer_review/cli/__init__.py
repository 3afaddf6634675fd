"""The ``peer-review`` command line in pieces, one module per command group; ``starter.py`` assembles them.

It may import every other room of ``peer_review``; nothing imports it but ``starter.py`` and the tests.
"""
