"""The record for other systems: FHIR R4 (US Core 6.1.0) export and the patient's right of
access. Read-only views of the record; nothing here writes."""
