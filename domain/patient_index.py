"""An index aggregate that makes an external id (MRN) unique across patients.

Its id is derived from the external id, so a second registration of the same MRN tries to
create the same index aggregate again and the store refuses it atomically, even when two
registrations race on different processes.
"""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate


def index_id(external_id: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"carelog:external-id:{external_id.strip().casefold()}")


class PatientIndex(Aggregate, created_event_name="Indexed"):
    """Points an external id at the patient registered with it."""

    TOPIC = "carelog.PatientIndex"

    class Created(Aggregate.Created):
        """Unused: defined by the library; the index uses ``Indexed``."""

        TOPIC = "carelog.PatientIndex.Created"

    class Indexed(Aggregate.Created):
        """An external id was taken by a patient."""

        TOPIC = "carelog.PatientIndex.Indexed"
        patient_id: str

    patient_id: str

    def __init__(self, patient_id: str) -> None:
        self.patient_id = patient_id

    @classmethod
    def create(cls, external_id: str, patient_id: str) -> PatientIndex:
        return cls._create(cls.Indexed, id=index_id(external_id), patient_id=patient_id)
