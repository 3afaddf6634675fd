"""The HTTP front end: the JSON API under /referrals and the server-rendered pages, in ``routes/``.

``app.py`` assembles them into one FastAPI app. Nothing here talks to Temporal except through
``peer_review.temporal.client``, so the API refuses exactly what the CLI refuses, with the same messages.
It may import ``domain``, ``temporal`` and ``records``; only the CLI's ``api`` command and ``dev.py`` import it.
"""
