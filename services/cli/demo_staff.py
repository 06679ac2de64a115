"""The demo care team: a psychiatrist, a therapist and a pharmacist, made once per store with
random ids and found again by name on a re-run, their tokens kept so saved tokens and open
sessions keep working.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.actor import Actor
from domain.errors import CareLogError
from services.access import demo_tokens
from services.access.staff import StaffMember
from services.bootstrap import CareLog

DEMO_STAFF = (
    ("Dr Ada Quill (demo psychiatrist)", "psychiatrist", False),
    ("Tom Reed (demo therapist)", "therapist", False),
    # Not a prescriber: a pharmacist prescribes only under a collaborative practice
    # agreement, and the demo's psychiatrist prescribes (psychiatrists always may).
    ("Pia Marsh (demo pharmacist)", "pharmacist", False),
    ("Ann Ledger (demo auditor)", "auditor", False),
    ("Sam Keys (demo admin)", "admin", False),
)


@dataclass
class DemoStaff:
    psychiatrist: Actor
    therapist: Actor
    pharmacist: Actor
    tokens: dict[str, dict[str, str]]


def existing_demo_staff(carelog: CareLog) -> dict[str, StaffMember]:
    """The demo staff this store already has, by role (found by their demo names).

    Demo staff ids are random, made once per store: a fixed id, the same on every
    install, is a staff id anyone could know in advance of a deployment. Re-running the
    demo on the same store finds them again, so their ids (and the patients' care teams)
    stay as they were; a store seeded by an earlier version keeps its ids too."""
    names = {(name, role) for name, role, _ in DEMO_STAFF}
    found: dict[str, StaffMember] = {}
    for member in carelog.staff.list():
        role = str(member.role)
        if (member.name, role) in names and role not in found:
            found[role] = member
    return found


def ensure_staff(carelog: CareLog, rotate_tokens: bool = False) -> DemoStaff:
    """The demo staff, made on the first run; on a re-run the same accounts with the same
    tokens (saved tokens and open sessions keep working), unless ``rotate_tokens``."""
    tokens: dict[str, dict[str, str]] = {}
    actors: dict[str, Actor] = {}
    existing = existing_demo_staff(carelog)
    path = demo_tokens.tokens_path(carelog.config)
    saved = {} if rotate_tokens else demo_tokens.load(path)
    for name, role, prescriber in DEMO_STAFF:
        member = existing.get(role)
        if member is None:
            member, token = carelog.staff.add(name, role, prescriber)
        else:
            token = saved.get(role, "")
            if not _still_signs_in(carelog, member, token):
                token = carelog.staff.rotate_token(member.id)
        tokens[role] = {"id": member.id, "name": member.name, "role": role, "token": token}
        actors[role] = member.actor
    demo_tokens.save(path, {role: entry["token"] for role, entry in tokens.items()})
    return DemoStaff(actors["psychiatrist"], actors["therapist"], actors["pharmacist"], tokens)


def _still_signs_in(carelog: CareLog, member: StaffMember, token: str) -> bool:
    if not token.startswith(member.id + "."):
        return False  # another account's (another store's) token: never tried
    try:
        found = carelog.staff.authenticate(token)
    except CareLogError:  # (too many failed attempts: a new token, not a refusal)
        return False
    return found is not None and found.id == member.id
