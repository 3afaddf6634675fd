"""Activities: thin wrappers that do the side effects of a review (records, notifications, directory look-ups).

Each calls into peer_review/ (records, domain); the worker registers them. They never import workflows/."""
