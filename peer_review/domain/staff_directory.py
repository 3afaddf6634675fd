"""The staff directory: who works where and in which roles. Loaded from YAML (DESIGN §7)."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

import yaml
from pydantic import Field, ValidationError, model_validator

from peer_review.domain.lifecycle import Reader
from peer_review.domain.models import Contract, Identifier, Referral, ReviewContacts, Role, Staff


class DirectoryError(Exception):
    """The directory file is missing or malformed."""


class Directory(Contract):
    staff: list[Staff]
    deputies: dict[Identifier, list[Identifier]] = Field(default_factory=dict)

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

    def find(self, staff_id: str) -> Staff | None:
        return self._by_id.get(staff_id)

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
        )

    def referral_problems(self, referral: Referral) -> list[str]:
        """Reasons a referral cannot start against this directory (checked before a workflow starts)."""
        problems = []
        if self.find(referral.referred_by) is None:
            problems.append(f"referred_by: {referral.referred_by} is not in the staff directory")
        if self.chair_of(referral.osn) is None:
            problems.append(f"osn: no OSN Chair is listed for {referral.osn!r}")
        return problems


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
