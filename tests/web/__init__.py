"""The HTTP API and pages (peer_review/web) in-process over the session's dev server, and a live server."""
