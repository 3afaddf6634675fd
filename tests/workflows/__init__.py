"""The workflow through the real worker on the session's dev server (or the time-skipping server)."""
