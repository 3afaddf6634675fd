"""The staff directory (DESIGN §7): validation, who acts on a review, and loading the YAML file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from peer_review.domain.models import ReviewContacts, Role
from peer_review.domain.staff_directory import Directory, DirectoryError, load_directory
from tests.helpers import EXAMPLES, make_referral
from tests.helpers.staff import CHAIR, DEPUTY, FOCAL, NATIONAL_LEAD, REFERRER, REVIEWER


def member(staff_id: str, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": staff_id,
        "name": f"Person {staff_id}",
        "email": f"{staff_id.lower()}@example.gov.uk",
        "site": "Leeds",
        "osn": "north-east",
        "roles": ["caseworker"],
    }
    data.update(changes)
    return data


def write(path: Path, data: object) -> Path:
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


@pytest.fixture
def directory() -> Directory:
    return load_directory(EXAMPLES / "directory.yaml")


# --- Validation -----------------------------------------------------------------------------------


def test_example_directory_is_valid(directory: Directory) -> None:
    assert len(directory.staff) == 13  # with the integration I900
    assert directory.deputies == {"north-east": [DEPUTY]}
    assert [team.id for team in directory.teams] == ["T-LEEDS-COMPLAINTS", "T-COMPLAINTS-POLICY"]


def test_duplicate_staff_ids_are_rejected() -> None:
    with pytest.raises(ValidationError) as caught:
        Directory.model_validate({"staff": [member("S1"), member("S2"), member("S1", name="Someone Else")]})
    assert "duplicate id(s) S1" in str(caught.value)


def test_every_duplicate_id_is_named() -> None:
    with pytest.raises(ValidationError) as caught:
        Directory.model_validate({"staff": [member("S2"), member("S1"), member("S2"), member("S1"), member("S3")]})
    assert "duplicate id(s) S1, S2" in str(caught.value)


def test_unknown_deputies_are_rejected() -> None:
    with pytest.raises(ValidationError) as caught:
        Directory.model_validate({"staff": [member("S1")], "deputies": {"north-east": ["S1", "S404"]}})
    message = str(caught.value)
    assert "deputies.north-east" in message and "S404" in message
    assert "S1," not in message


def test_deputies_are_optional() -> None:
    assert Directory.model_validate({"staff": [member("S1")]}).deputies == {}


@pytest.mark.parametrize(
    "changes",
    [
        {"roles": ["superuser"]},
        {"email": "not-an-email"},
        {"email": "two words@example.gov.uk"},
        {"id": "has space"},
        {"phone": "0113 000 0000"},
        {"name": ""},
    ],
)
def test_malformed_staff_entries_are_rejected(changes: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        Directory.model_validate({"staff": [member("S1", **changes)]})


def test_unknown_top_level_keys_are_rejected() -> None:
    with pytest.raises(ValidationError):
        Directory.model_validate({"staff": [member("S1")], "chairs": {"north-east": "S1"}})


# --- Look-ups -------------------------------------------------------------------------------------


def test_find_and_roles(directory: Directory) -> None:
    found = directory.find(REVIEWER)
    assert found is not None and found.site == "Bristol"
    assert directory.find("S999") is None
    assert {m.id for m in directory.with_role(Role.FOCAL_POINT)} == {FOCAL}
    assert {m.id for m in directory.with_role(Role.REVIEWER)} == {"S101", "S301", "S400", "S401"}


def test_chair_of_each_osn(directory: Directory) -> None:
    chair = directory.chair_of("north-east")
    assert chair is not None and chair.id == CHAIR
    south_west = directory.chair_of("south-west")
    assert south_west is not None and south_west.id == "S110"
    assert directory.chair_of("nowhere") is None


def test_contacts_for_a_north_east_referral(directory: Directory) -> None:
    contacts = directory.contacts_for(make_referral("persistent"))
    assert contacts == ReviewContacts(
        referrer_known=True,
        chair=CHAIR,
        deputies=[DEPUTY],
        focal_points=[FOCAL],
        national_leads=[NATIONAL_LEAD],
        site_contacts=["S302"],  # the Leeds complaints team's contact
    )


def test_contacts_for_an_osn_without_deputies(directory: Directory) -> None:
    contacts = directory.contacts_for(make_referral("persistent", osn="south-west"))
    assert contacts.chair == "S110"
    assert contacts.deputies == []
    assert contacts.focal_points == [FOCAL]


def test_contacts_for_an_unknown_referrer_and_osn(directory: Directory) -> None:
    contacts = directory.contacts_for(make_referral("persistent", referred_by="S999", osn="nowhere", site="Hull"))
    assert contacts == ReviewContacts(
        referrer_known=False, chair=None, deputies=[], focal_points=[FOCAL], national_leads=[NATIONAL_LEAD]
    )


def test_contacts_do_not_share_the_directorys_deputy_list(directory: Directory) -> None:
    contacts = directory.contacts_for(make_referral("persistent"))
    assert contacts.deputies is not directory.deputies["north-east"]


def test_a_referral_from_the_example_directory_has_no_problems(directory: Directory) -> None:
    assert directory.referral_problems(make_referral("persistent")) == []


def test_an_unknown_referrer_is_a_problem(directory: Directory) -> None:
    problems = directory.referral_problems(make_referral("persistent", referred_by="S999"))
    assert problems == ["referred_by: S999 is not in the staff directory"]


def test_an_osn_without_a_chair_is_a_problem(directory: Directory) -> None:
    problems = directory.referral_problems(make_referral("persistent", osn="nowhere"))
    assert problems == ["osn: no OSN Chair is listed for 'nowhere'"]


def test_every_problem_is_reported(directory: Directory) -> None:
    referral = make_referral("persistent", referred_by="S999", osn="nowhere")
    problems = directory.referral_problems(referral)
    assert [p.split(":")[0] for p in problems] == ["referred_by", "osn"]


@pytest.mark.parametrize("changes", [{"referred_by": "S999"}, {"osn": "nowhere"}, {"referred_by": "S999", "osn": "x"}])
def test_a_mandatory_referral_always_starts_whatever_the_directory_lacks(
    directory: Directory, changes: dict[str, str]
) -> None:
    """The gaps are still found (the review audits and escalates them), but they never stop a suicide referral."""
    referral = make_referral("suicide", **changes)
    assert directory.referral_problems(referral) == []
    assert len(directory.referral_gaps(referral)) == len(changes)


def test_a_reason_other_than_suicide_keeps_the_directory_check(directory: Directory) -> None:
    for kind in ("persistent", "complex-issue", "additional-needs", "other"):
        assert directory.referral_problems(make_referral(kind, osn="nowhere")) != []


def test_referrer_is_known_only_by_exact_id(directory: Directory) -> None:
    assert directory.find(REFERRER) is not None
    assert directory.referral_problems(make_referral("persistent", referred_by="s300")) != []


# --- Loading the file -----------------------------------------------------------------------------


def test_load_directory_reads_a_valid_file(tmp_path: Path) -> None:
    path = write(tmp_path / "directory.yaml", {"staff": [member("S1", roles=["osn_chair"])]})
    loaded = load_directory(path)
    assert [m.id for m in loaded.staff] == ["S1"]


def test_missing_file_is_a_directory_error(tmp_path: Path) -> None:
    path = tmp_path / "missing.yaml"
    with pytest.raises(DirectoryError) as caught:
        load_directory(path)
    assert str(path) in str(caught.value)


@pytest.mark.parametrize(
    "text",
    [
        "staff: [unclosed",
        "staff:\n  - {id: S1\n",
        "\tstaff: []\n",
    ],
    ids=["unclosed-list", "unclosed-mapping", "tab-indent"],
)
def test_malformed_yaml_is_a_directory_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "directory.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DirectoryError) as caught:
        load_directory(path)
    assert "is not valid" in str(caught.value)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "just a string\n",
        "- S100\n- S101\n",
        "staff: null\n",
        "deputies: {}\n",
    ],
    ids=["empty", "scalar", "list", "null-staff", "no-staff"],
)
def test_wrongly_shaped_yaml_is_a_directory_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "directory.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DirectoryError):
        load_directory(path)


def test_invalid_content_is_a_directory_error(tmp_path: Path) -> None:
    path = write(tmp_path / "directory.yaml", {"staff": [member("S1"), member("S1")]})
    with pytest.raises(DirectoryError) as caught:
        load_directory(path)
    assert "duplicate id(s) S1" in str(caught.value)


def test_a_file_that_is_not_utf8_is_a_directory_error(tmp_path: Path) -> None:
    """A directory saved as Latin-1 (e.g. "José") is a malformed file: callers such as
    PeerReviewClient.refer catch only DirectoryError, so anything else escapes as a crash."""
    path = tmp_path / "directory.yaml"
    text = "staff:\n  - {id: S1, name: José, email: j@example.gov.uk, site: Leeds, osn: ne, roles: []}\n"
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(DirectoryError):
        load_directory(path)


def test_a_path_that_is_a_folder_is_a_directory_error(tmp_path: Path) -> None:
    """PEER_REVIEW_DIRECTORY naming a folder is a misconfiguration, reported like a missing file."""
    with pytest.raises(DirectoryError):
        load_directory(tmp_path)


def test_an_unchanged_file_is_read_once(tmp_path: Path) -> None:
    path = write(tmp_path / "directory.yaml", {"staff": [member("S1")]})
    assert load_directory(path) is load_directory(path)


def test_a_changed_file_is_read_again(tmp_path: Path) -> None:
    path = write(tmp_path / "directory.yaml", {"staff": [member("S1")]})
    first = load_directory(path)
    write(path, {"staff": [member("S1"), member("S2")]})
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    second = load_directory(path)
    assert [m.id for m in first.staff] == ["S1"]
    assert [m.id for m in second.staff] == ["S1", "S2"]


def test_a_file_that_becomes_invalid_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path / "directory.yaml", {"staff": [member("S1")]})
    load_directory(path)
    path.write_text("staff: [unclosed", encoding="utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    with pytest.raises(DirectoryError):
        load_directory(path)


def test_a_deputy_holding_the_chair_role_is_never_taken_for_the_chair() -> None:
    deputy_first = Directory.model_validate(
        {
            "staff": [member("S2", roles=["osn_chair"]), member("S1", roles=["osn_chair"])],
            "deputies": {"north-east": ["S2"]},
        }
    )
    chair = deputy_first.chair_of("north-east")
    assert chair is not None and chair.id == "S1"


def test_two_chairs_of_one_osn_are_refused() -> None:
    with pytest.raises(ValidationError, match="more than one Chair"):
        Directory.model_validate({"staff": [member("S1", roles=["osn_chair"]), member("S2", roles=["osn_chair"])]})


# --- Teams: owners of recommendations -----------------------------------------------------------


def team(team_id: str, **changes: Any) -> dict[str, Any]:
    return {"id": team_id, "function": "Complaints handling", "site": "Leeds", "contacts": ["S1"], **changes}


def test_teams_are_optional() -> None:
    assert Directory.model_validate({"staff": [member("S1")]}).teams == []


@pytest.mark.parametrize(
    ("teams", "message"),
    [
        ([team("T1"), team("T1")], "teams: id(s) T1 used more than once"),
        ([team("S1")], "teams: id(s) S1 used more than once"),
        ([team("T1", contacts=["S404"])], "teams.T1.contacts: unknown staff id(s) S404"),
        ([team("T1", function="Leeds complaints team")], "teams.T1.function: must name neither a site nor a person"),
        ([team("T1", function="Person S1's team")], "teams.T1.function: must name neither a site nor a person"),
        ([team("T1", phone="0113")], "phone"),
    ],
)
def test_malformed_teams_are_refused_naming_the_field(teams: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Directory.model_validate({"staff": [member("S1")], "teams": teams})
    assert message in str(caught.value)


def test_owners_are_staff_or_team_ids(directory: Directory) -> None:
    lookup = directory.owners(["T-LEEDS-COMPLAINTS", REVIEWER, "Leeds complaints team", "T-NONE", REVIEWER])
    assert lookup.unknown == ["Leeds complaints team", "T-NONE"]
    assert lookup.contacts == {"T-LEEDS-COMPLAINTS": ["S302"], REVIEWER: [REVIEWER]}


def test_an_owner_is_disclosed_as_a_function_never_a_name_or_site(directory: Directory) -> None:
    assert directory.owner_label("T-LEEDS-COMPLAINTS") == "Complaints handling"
    assert directory.owner_label("T-COMPLAINTS-POLICY") == "Complaints policy"
    for owner in (CHAIR, REVIEWER, "T-GONE"):
        label = directory.owner_label(owner)
        assert owner not in label
        assert not any(part in label for m in directory.staff for part in (m.name, m.site, m.id))


def test_site_contacts_are_the_contacts_of_teams_at_the_site(directory: Directory) -> None:
    assert directory.site_contacts("Leeds") == ["S302"]
    assert directory.site_contacts("leeds") == ["S302"]
    assert directory.site_contacts("Bristol") == []
