"""Workflows: orchestration only; what is allowed is decided in peer_review/."""
