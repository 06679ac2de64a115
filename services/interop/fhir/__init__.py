"""CareLog's FHIR R4 export: a patient's record as a collection Bundle, as of any time.

``build_bundle`` is the entry point (``bundle.py``); each other module builds the resources
for one part of the record, named for what it holds.
"""

from __future__ import annotations

from services.interop.fhir.bundle import build_bundle

__all__ = ["build_bundle"]
