"""The records database (peer_review/records) on SQLite and, when configured, PostgreSQL."""
