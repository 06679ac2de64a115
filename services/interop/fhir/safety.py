"""Side effects as ``AdverseEvent`` and safety alerts as ``DetectedIssue``.

An AdverseEvent's ``suspectEntity`` names the medication: FHIR R4/R4B allow a
MedicationStatement there but not a MedicationRequest, so the instance is the order's
MedicationStatement and the exact request version in effect when the effect was seen rides
beside it in the ``suspect-request`` extension. A DetectedIssue is ``implicated`` with the
request versions in effect when the alert fired; its ``mitigation`` holds the override given
when the alert was raised and the resolution (acknowledged, overridden, changed).
"""

from __future__ import annotations

from typing import Any

from domain.alert_resolution import SUPERSEDED
from domain.plan import event_type
from domain.plan_entities import Alert
from domain.plan_vocabulary import AlertStatus
from services.interop.fhir import vocabulary as v
from services.interop.fhir.medications import request_ref_at, statement_ref
from services.interop.fhir.patient import patient_ref, practitioner_ref
from services.interop.fhir.references import Entry, instant, moment, ref, resource_id
from services.interop.fhir.selection import Selection


def side_effect_entries(sel: Selection) -> list[Entry]:
    entries = []
    for effect in sel.state.side_effects:
        resource: dict[str, Any] = {
            "resourceType": "AdverseEvent",
            "id": resource_id("AdverseEvent", effect.side_effect_id),
            "identifier": v.identifier("side-effect-id", effect.side_effect_id),
            "actuality": "actual",
            "event": {"text": effect.effect},
            "subject": patient_ref(sel),
            "date": instant(effect.effective_at),
            "recordedDate": instant(effect.recorded_at),
            "recorder": practitioner_ref(effect.actor.id),
            "severity": v.concept(
                effect.severity,
                v.coding(v.AE_SEVERITY, effect.severity, effect.severity.capitalize()),
            ),
        }
        extensions = []
        statement = statement_ref(sel, effect.order_id)
        if statement is not None:
            resource["suspectEntity"] = [{"instance": statement}]
            request = request_ref_at(sel, effect.order_id, effect.effective_at)
            extensions.append({"url": v.EXT_SUSPECT_REQUEST, "valueReference": request})
        if effect.onset:
            extensions.append({"url": v.EXT_ONSET, "valueString": effect.onset})
        if effect.action_taken:
            extensions.append({"url": v.EXT_ACTION_TAKEN, "valueString": effect.action_taken})
        if extensions:
            resource["extension"] = extensions
        entries.append(Entry(resource, [effect.event_id]))
    return entries


def alert_entries(sel: Selection) -> list[Entry]:
    entries = []
    for alert in sel.state.alerts.values():
        resource = detected_issue(sel, alert)
        made_by = [
            alert.event_id,
            *sel.ids_about("alert_id", alert.alert_id, "SafetyAlertResolved"),
        ]
        entries.append(Entry(resource, made_by))
    return entries


ISSUE_STATUS = {"open": "preliminary", SUPERSEDED: "cancelled"}
"""DetectedIssue.status from the alert's life: ``preliminary`` while open (identified, not yet
addressed), ``final`` once a clinician (or CareLog, when its condition ended) closed it,
``cancelled`` when CareLog replaced it with an alert carrying the current figures (the
``superseded-by`` extension names that one)."""


def issue_status(alert: Alert) -> str:
    resolution = alert.resolution
    if alert.status is AlertStatus.OPEN or resolution is None:
        return ISSUE_STATUS["open"]
    return ISSUE_STATUS.get(resolution.resolution, "final")


def link_evidence(sel: Selection, entries: list[Entry]) -> None:
    """Point each DetectedIssue at what made its rule fire: the resources made by the write
    that raised it (CareLog raises an alert in the same command, under the same correlation
    id), such as the PHQ-9 whose item 9 raised a suicide-risk alert."""
    raised = {
        e.event_id: e.correlation_id for e in sel.events if event_type(e) == "SafetyAlertRaised"
    }
    if not raised:
        return
    by_correlation: dict[str, set[str]] = {}
    for event in sel.events:
        if event.event_id not in raised:
            by_correlation.setdefault(event.correlation_id, set()).add(event.event_id)
    for issue in entries:
        if issue.resource["resourceType"] != "DetectedIssue":
            continue
        triggers = by_correlation.get(raised.get(issue.events[0], ""), set())
        detail = [
            ref(*entry.key)
            for entry in entries
            if entry.key[0] in EVIDENCE_TYPES and entry.events and entry.events[0] in triggers
        ]
        if detail:
            issue.resource["evidence"] = [{"detail": detail}]


EVIDENCE_TYPES = frozenset(
    {"QuestionnaireResponse", "Observation", "Condition", "MedicationRequest", "AdverseEvent"}
)


def detected_issue(sel: Selection, alert: Alert) -> dict[str, Any]:
    kind = alert.kind
    codings = [v.coding(v.ALERT_KIND, kind, kind.replace("_", " "))]
    if kind in v.ALERT_ACT_CODES:
        code, display = v.ALERT_ACT_CODES[kind]
        codings.insert(0, v.coding(v.ACT_CODE, code, display))
    # An open alert is about the orders as they stand now (the version a prescriber would
    # change); a closed one about the versions in effect when it fired.
    at = None if alert.status == "open" else alert.effective_at
    implicated = [r for r in (request_ref_at(sel, oid, at) for oid in alert.order_ids) if r]
    detail = alert.message
    if alert.action:
        detail = f"{detail} {alert.action}"
    resource: dict[str, Any] = {
        "resourceType": "DetectedIssue",
        "id": resource_id("DetectedIssue", alert.alert_id),
        "identifier": [v.identifier("alert-id", alert.alert_id)],
        "status": issue_status(alert),
        "code": v.concept(kind.replace("_", " "), *codings),
        "severity": v.ALERT_SEVERITY.get(alert.severity, "moderate"),
        "patient": patient_ref(sel),
        "identifiedDateTime": instant(alert.effective_at),
        "detail": detail,
        "extension": [
            {"url": f"{v.BASE}/StructureDefinition/safety-rule", "valueString": alert.rule_id},
            {"url": v.EXT_RULE_SOURCE, "valueString": alert.source},
            {"url": v.EXT_RULE_PACK_VERSION, "valueString": alert.rule_pack_version},
        ],
    }
    if implicated:
        resource["implicated"] = implicated
    mitigations = []
    if alert.override_reason:
        mitigations.append(
            {
                "action": v.concept(
                    f"overridden when written: {alert.override_reason}",
                    v.coding(v.ALERT_RESOLUTION, "overridden", "Overridden"),
                ),
                "date": instant(alert.effective_at),
                "author": practitioner_ref(alert.actor.id),
            }
        )
    resolution = alert.resolution
    if resolution is not None:
        text = resolution.resolution
        if resolution.reason:
            text = f"{text}: {resolution.reason}"
        mitigations.append(
            {
                "action": v.concept(
                    text,
                    v.coding(
                        v.ALERT_RESOLUTION,
                        resolution.resolution,
                        resolution.resolution.capitalize(),
                    ),
                ),
                "date": instant(moment(resolution.effective_at)),
                "author": practitioner_ref(resolution.actor.id),
            }
        )
    if mitigations:
        resource["mitigation"] = mitigations
    successor = resolution.superseded_by if resolution is not None else None
    if successor and successor in sel.state.alerts:
        resource["extension"].append(
            {
                "url": f"{v.BASE}/StructureDefinition/superseded-by",
                "valueReference": ref("DetectedIssue", resource_id("DetectedIssue", successor)),
            }
        )
    return resource
