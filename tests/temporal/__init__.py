"""Temporal plumbing (peer_review/temporal): connection, codec, proofs, metrics and the public contract."""
