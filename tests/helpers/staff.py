"""The staff ids of examples/directory.yaml that tests act as, named by what each person is on a north-east review."""

from __future__ import annotations

CHAIR = "S100"
DEPUTY = "S101"
FOCAL = "S200"
REFERRER = "S300"
SAME_SITE_REVIEWER = "S301"  # a reviewer at the referrer's site
REVIEWER = "S400"
AUDITOR = "S500"  # reads every review (the read rule)
