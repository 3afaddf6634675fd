"""The HTTP front end: the JSON API (rest.py) and the server-rendered pages (pages.py) over one PeerReviewClient.

peer_review/api.py assembles them into a FastAPI app; nothing here talks to Temporal except through
peer_review.client, so the API refuses exactly what the CLI refuses, with the same messages.
"""
