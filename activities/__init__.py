"""Activities: every side effect of a review (records, notifications, directory look-ups)."""
