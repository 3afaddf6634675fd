"""The pure rules of peer_review/domain as tables and properties: no Temporal, no I/O."""
