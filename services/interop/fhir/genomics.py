"""Pharmacogenomic results as FHIR genomics ``Observation``s (HL7 Genomics Reporting style).

Each result gives a genotype Observation (LOINC 84413-4 "Genotype display name", the
diplotype as reported) when a diplotype was reported, and a phenotype Observation (LOINC
53040-2 "Genetic variation's effect on drug metabolism") carrying CareLog's reading: the
phenotype, or a ``dataAbsentReason`` saying it is not interpretable and why. Both name the
gene as a component (LOINC 48018-6 "Gene studied [ID]", HGNC-coded), the lab and the
report date; the phenotype is ``derivedFrom`` the genotype. A result CareLog has no table
for is exported as reported, with the gene as text only.
"""

from __future__ import annotations

from typing import Any

from domain.pharmacogenomics import recorded
from domain.plan_records import PharmacogenomicResult
from domain.safety.genotypes import interpret
from services.interop.fhir import vocabulary as v
from services.interop.fhir.patient import patient_ref, practitioner_ref
from services.interop.fhir.references import Entry, fhir_date, instant, ref_to, resource_id
from services.interop.fhir.selection import Selection

HGNC = "http://www.genenames.org/geneId"
GENES = {  # gene -> HGNC id
    "CYP2D6": "HGNC:2625",
    "CYP2C19": "HGNC:2621",
    "HLA-A": "HGNC:4931",
    "HLA-B": "HGNC:4932",
    "POLG": "HGNC:9179",
}
GENOTYPE = v.coding(v.LOINC, "84413-4", "Genotype display name")
PHENOTYPE = v.coding(v.LOINC, "53040-2", "Genetic variation's effect on drug metabolism")
GENE_STUDIED = v.coding(v.LOINC, "48018-6", "Gene studied [ID]")


def _gene(gene: str) -> dict[str, Any]:
    code = GENES.get(gene)
    value = v.concept(gene, v.coding(HGNC, code, gene)) if code else v.concept(gene)
    return {"code": v.concept("Gene studied", GENE_STUDIED), "valueCodeableConcept": value}


def _base(sel: Selection, result: PharmacogenomicResult, rid: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": rid,
        # a laboratory result: US Core's lab profile, as every laboratory Observation
        "meta": v.us_core("us-core-observation-lab"),
        "status": "corrected" if result.corrected else "final",
        "category": [
            v.concept("Laboratory", v.coding(v.OBSERVATION_CATEGORY, "laboratory", "Laboratory"))
        ],
        "subject": patient_ref(sel),
        "effectiveDateTime": instant(result.effective_at),
        "issued": instant(result.recorded_at),
        "performer": [practitioner_ref(result.actor.id)],
        "identifier": [v.identifier("pharmacogenomic-result-id", result.result_id)],
        "component": [_gene(result.gene)],
        "note": [{"text": f"Reported by {result.lab} on {fhir_date(result.report_date)}."}],
    }


def genomics_entries(sel: Selection) -> list[Entry]:
    entries = []
    for result in recorded(sel.state):
        made_by = [result.event_id]
        genotype = None
        if result.diplotype:
            genotype = _base(sel, result, resource_id("Observation", result.result_id, "genotype"))
            genotype["identifier"] = [  # one identifier per resource: the result has two
                v.identifier("pharmacogenomic-genotype-id", result.result_id)
            ]
            genotype["code"] = v.concept("Genotype", GENOTYPE)
            genotype["valueCodeableConcept"] = v.concept(result.diplotype)
            entries.append(Entry(genotype, made_by))
        phenotype = _base(sel, result, resource_id("Observation", result.result_id, "phenotype"))
        phenotype["identifier"] = [v.identifier("pharmacogenomic-phenotype-id", result.result_id)]
        phenotype["code"] = v.concept("Metaboliser phenotype", PHENOTYPE)
        reading = interpret(result.gene, result.diplotype, result.phenotype)
        if reading.phenotype is not None:
            phenotype["valueCodeableConcept"] = v.concept(f"{reading.gene} {reading.phenotype}")
            phenotype["note"].append({"text": f"Read by CareLog from the {reading.basis}."})
        else:
            phenotype["dataAbsentReason"] = v.concept(f"Not interpretable: {reading.problem}")
        if result.phenotype:
            phenotype["note"].append({"text": f"Phenotype as reported: {result.phenotype}."})
        if genotype is not None:
            phenotype["derivedFrom"] = [ref_to(genotype)]
        entries.append(Entry(phenotype, made_by))
    return entries
