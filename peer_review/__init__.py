"""Peer Review domain: contracts, rules and plumbing shared by the worker, the CLI and the tests."""
