"""The mapper that encrypts each stored record under its patient's data key.

The library's mapper has one cipher for the whole store; this one picks the data key per
record: a patient record's events and snapshots by their ``originator_id`` (the patient's
id, stored in clear beside the encrypted state), the patient index's entries by the
patient they point at, so erasing a patient also makes their index entry unreadable.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.persistence import (
    Mapper,
    MapperDeserialisationError,
    StoredEvent,
    Transcoder,
)

from services.keys.errors import KeyUnavailableError
from services.keys.keyring import MAGIC, STORE, KeyRing


def subject_of(domain_event: Any) -> UUID:
    """Whose data key a domain event is encrypted under."""
    if type(domain_event).__qualname__.startswith("PatientIndex"):
        patient = getattr(domain_event, "patient_id", None)
        return UUID(str(patient)) if patient else STORE
    originator = domain_event.originator_id
    return originator if isinstance(originator, UUID) else STORE


class EnvelopeMapper(Mapper[UUID]):
    """``Mapper`` with per-patient envelope encryption (``services.keys.keyring``)."""

    def __init__(self, transcoder: Transcoder, keyring: KeyRing) -> None:
        super().__init__(transcoder)
        self.keyring = keyring

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        clear = super().to_stored_event(domain_event)
        return StoredEvent(
            originator_id=clear.originator_id,
            originator_version=clear.originator_version,
            topic=clear.topic,
            state=self.keyring.seal(subject_of(domain_event), clear.state),
        )

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        what = (
            f"Record {stored_event.originator_id} v{stored_event.originator_version} "
            f"({stored_event.topic})"
        )
        clear = StoredEvent(
            originator_id=stored_event.originator_id,
            originator_version=stored_event.originator_version,
            topic=stored_event.topic,
            state=self.keyring.open(stored_event.state, what),
        )
        return super().to_domain_event(clear)


class GuardedMapper(Mapper[UUID]):
    """The library's mapper for a process without envelope encryption, which says so
    clearly when it meets a record written with it (instead of a decoding error)."""

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        try:
            return super().to_domain_event(stored_event)
        except MapperDeserialisationError:
            if stored_event.state[: len(MAGIC)] != MAGIC:  # (a nonce may start so: 2**-32)
                raise
            raise KeyUnavailableError(
                f"Record {stored_event.originator_id} v{stored_event.originator_version} is "
                "encrypted with a per-patient data key (envelope encryption), but this process "
                "has no key-encryption key: set CARELOG_KEK or CARELOG_KEK_FILE."
            ) from None
