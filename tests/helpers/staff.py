"""The people of examples/directory.yaml that tests act as, named by what each is on a north-east review."""

from __future__ import annotations

CHAIR = "S100"  # the north-east OSN Chair
DEPUTY = "S101"  # a north-east Chair who also reviews
OTHER_CHAIR = "S110"  # the south-west Chair: not this review's
FOCAL = "S200"  # the Focal Point (national)
REFERRER = "S300"  # the caseworker who refers, at Leeds
SAME_SITE_REVIEWER = "S301"  # a reviewer at the referrer's site
CASEWORKER = "S302"  # another Leeds caseworker, and the contact of the Leeds complaints team
LEEDS_TEAM_CONTACT = CASEWORKER  # owns the recommendations addressed to the Leeds complaints team
REVIEWER = "S400"  # the peer reviewer, in the south-west
OTHER_REVIEWER = "S401"  # another south-west reviewer, not assigned
AUDITOR = "S500"  # reads every review (the read rule)
NATIONAL_LEAD = "S600"
INTEGRATION = "I900"  # the case management system, which refers but reads nothing
CONTRACTOR = "S900"  # in the directory, but with an email outside the service's domains
UNKNOWN = "S999"  # in no directory

# Who, and whether they may read a north-east review referred by REFERRER and assigned to REVIEWER (the read rule).
READERS: dict[str, tuple[str, bool]] = {
    "auditor": (AUDITOR, True),
    "focal point": (FOCAL, True),
    "chair of the OSN": (CHAIR, True),
    "deputy": (DEPUTY, True),
    "chair of another OSN": (OTHER_CHAIR, False),
    "assigned reviewer": (REVIEWER, True),
    "another reviewer": (OTHER_REVIEWER, False),
    "referrer": (REFERRER, True),
    "another caseworker": (CASEWORKER, False),
    "integration": (INTEGRATION, False),
}
# Kept out of everything, reads included.
OUTSIDERS = {"not in the directory": UNKNOWN, "external (contractor domain)": CONTRACTOR}
