"""Baseline histories of every path replay against the current workflow; `python -m tests.replay.paths` re-saves."""
