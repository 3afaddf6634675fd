"""One module per group of routes: ``referrals`` (the JSON API), ``pages`` (home, sign-in, auditor), ``chair``
and ``reviewer`` (their pages)."""
