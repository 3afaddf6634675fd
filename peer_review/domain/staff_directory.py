"""The staff directory: who works where and in which roles. Loaded from YAML (DESIGN §7)."""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path

import yaml
from pydantic import Field, ValidationError, model_validator

from peer_review.domain.lifecycle import Reader
from peer_review.domain.models import (
    Contract,
    Identifier,
    OwnerLookup,
    RecommendationContacts,
    RecommendationParties,
    Referral,
    ReviewContacts,
    Role,
    Staff,
    Team,
)
from peer_review.domain.triage import is_mandatory

# What a redacted export shows for a recommendation owned by a person: never their name or site.
PERSON_OWNER_LABEL = "a named member of staff"
UNKNOWN_OWNER_LABEL = "an owner no longer in the directory"


class DirectoryError(Exception):
    """The directory file is missing or malformed."""


class Directory(Contract):
    staff: list[Staff]
    deputies: dict[Identifier, list[Identifier]] = Field(default_factory=dict)
    # Teams that can own a recommendation (ids share one namespace with staff ids).
    teams: list[Team] = Field(default_factory=list)

    @model_validator(mode="after")
    def _ids_are_unique_and_known(self) -> Directory:
        ids = [member.id for member in self.staff]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"staff: duplicate id(s) {', '.join(duplicates)}")
        for osn, deputies in self.deputies.items():
            unknown = [d for d in deputies if d not in ids]
            if unknown:
                raise ValueError(f"deputies.{osn}: unknown staff id(s) {', '.join(unknown)}")
        team_ids = [team.id for team in self.teams]
        clashes = sorted({i for i in team_ids if team_ids.count(i) > 1 or i in ids})
        if clashes:
            named = ", ".join(clashes)
            raise ValueError(f"teams: id(s) {named} used more than once (staff and team ids share one list)")
        sites = {m.site.casefold() for m in self.staff} | {t.site.casefold() for t in self.teams if t.site}
        names = {m.name.casefold() for m in self.staff}
        for team in self.teams:
            unknown = [c for c in team.contacts if c not in ids]
            if unknown:
                raise ValueError(f"teams.{team.id}.contacts: unknown staff id(s) {', '.join(unknown)}")
            # A redacted export shows the function in place of the team: it must name neither a site nor a person.
            if any(re.search(rf"\b{re.escape(name)}\b", team.function.casefold()) for name in sites | names):
                raise ValueError(f"teams.{team.id}.function: must name neither a site nor a person")
        for osn in sorted({m.osn for m in self.staff}):
            chairs = self._chairs(osn)
            if len(chairs) > 1:
                # Which of them decides would depend on the order of the file: refuse instead.
                named = ", ".join(m.id for m in chairs)
                raise ValueError(f"staff: OSN {osn} has more than one Chair ({named}); list the others as deputies")
        return self

    @cached_property
    def _by_id(self) -> dict[str, Staff]:
        return {member.id: member for member in self.staff}

    @cached_property
    def _teams_by_id(self) -> dict[str, Team]:
        return {team.id: team for team in self.teams}

    def find(self, staff_id: str) -> Staff | None:
        return self._by_id.get(staff_id)

    def find_team(self, team_id: str) -> Team | None:
        return self._teams_by_id.get(team_id)

    def owners(self, owner_ids: list[str]) -> OwnerLookup:
        """Which recommendation owners the directory knows, and who reads for each known one."""
        unknown: list[str] = []
        contacts: dict[str, list[str]] = {}
        for owner in dict.fromkeys(owner_ids):
            team = self.find_team(owner)
            if team is not None:
                contacts[owner] = list(team.contacts)
            elif self.find(owner) is not None:
                contacts[owner] = [owner]
            else:
                unknown.append(owner)
        return OwnerLookup(unknown=unknown, contacts=contacts)

    def owner_label(self, owner_id: str) -> str:
        """What may be disclosed about a recommendation's owner: a team's function, never a name or a site."""
        team = self.find_team(owner_id)
        if team is not None:
            return team.function
        return PERSON_OWNER_LABEL if self.find(owner_id) is not None else UNKNOWN_OWNER_LABEL

    def site_contacts(self, site: str) -> list[str]:
        """The contacts of the teams at a site: told where to read a review's local feedback."""
        at_site = [team for team in self.teams if team.site and team.site.casefold() == site.casefold()]
        return list(dict.fromkeys(contact for team in at_site for contact in team.contacts))

    def with_role(self, role: Role) -> list[Staff]:
        return [member for member in self.staff if role in member.roles]

    def chair_of(self, osn: str) -> Staff | None:
        """The OSN's Chair: its one `osn_chair` who is not listed as a deputy (deputies may hold the role too)."""
        return next(iter(self._chairs(osn)), None)

    def _chairs(self, osn: str) -> list[Staff]:
        deputies = self.deputies.get(osn, [])
        return [m for m in self.with_role(Role.OSN_CHAIR) if m.osn == osn and m.id not in deputies]

    def chair_osns(self, staff: Staff) -> tuple[str, ...]:
        """The OSNs whose reviews `staff` decides and signs off: as their Chair or as a listed deputy."""
        chaired = [staff.osn] if self.chair_of(staff.osn) == staff else []
        deputising = [osn for osn, deputies in self.deputies.items() if staff.id in deputies]
        return tuple(dict.fromkeys(chaired + deputising))

    def reader(self, staff_id: str) -> Reader | None:
        """Who is reading, for the read rule (peer_review.domain.lifecycle.read_scope); None if not in the directory."""
        staff = self.find(staff_id)
        if staff is None:
            return None
        return Reader(staff.id, frozenset(staff.roles), frozenset(self.chair_osns(staff)))

    def contacts_for(self, referral: Referral) -> ReviewContacts:
        chair = self.chair_of(referral.osn)
        return ReviewContacts(
            referrer_known=self.find(referral.referred_by) is not None,
            chair=chair.id if chair else None,
            deputies=list(self.deputies.get(referral.osn, [])),
            focal_points=[m.id for m in self.with_role(Role.FOCAL_POINT)],
            national_leads=[m.id for m in self.with_role(Role.NATIONAL_LEAD)],
            site_contacts=self.site_contacts(referral.site),
        )

    def recommendation_contacts(self, parties: RecommendationParties) -> RecommendationContacts:
        """Who acts on a recommendation: its owner (or the team's contacts), the OSN's Chair and deputies, the
        national leads and the Focal Point."""
        owned = self.owners([parties.owner])
        chair = self.chair_of(parties.osn)
        return RecommendationContacts(
            owner_known=not owned.unknown,
            owner_contacts=owned.contacts.get(parties.owner, []),
            chair=chair.id if chair else None,
            deputies=list(self.deputies.get(parties.osn, [])),
            national_leads=[m.id for m in self.with_role(Role.NATIONAL_LEAD)],
            focal_points=[m.id for m in self.with_role(Role.FOCAL_POINT)],
        )

    def owned_by(self, staff_id: str) -> frozenset[str]:
        """The owner ids a member of staff acts for: themselves and the teams they are a contact of."""
        return frozenset({staff_id, *(team.id for team in self.teams if staff_id in team.contacts)})

    def referral_gaps(self, referral: Referral) -> list[str]:
        """What the directory lacks for this referral: an unknown referrer, an OSN without a Chair."""
        gaps = []
        if self.find(referral.referred_by) is None:
            gaps.append(f"referred_by: {referral.referred_by} is not in the staff directory")
        if self.chair_of(referral.osn) is None:
            gaps.append(f"osn: no OSN Chair is listed for {referral.osn!r}")
        return gaps

    def referral_problems(self, referral: Referral) -> list[str]:
        """Reasons a referral cannot start against this directory (checked before a workflow starts).

        A mandatory (suicide-related) review always starts: its gaps are audited and escalated by the review
        itself. Any other referral needs a referrer the directory knows and a Chair to decide on it.
        """
        return [] if is_mandatory(referral) else self.referral_gaps(referral)


_cache: dict[Path, tuple[float, Directory]] = {}


def load_directory(path: Path) -> Directory:
    """Read the directory, re-reading only when the file changed so a lookup costs no disk I/O."""
    try:
        mtime = path.stat().st_mtime
        cached = _cache.get(path)
        if cached and cached[0] == mtime:
            return cached[1]
        directory = Directory.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except OSError as error:
        raise DirectoryError(f"staff directory {path}: {error.strerror}") from None
    except (UnicodeDecodeError, yaml.YAMLError, ValidationError) as error:
        raise DirectoryError(f"staff directory {path} is not valid: {error}") from None
    _cache[path] = (mtime, directory)
    return directory
