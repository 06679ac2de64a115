"""The drug a prescriber names, as CareLog records it on the order: resolved against the
rule pack (generic, classes, ingredients of a combination, formulation, concentration),
with the product's RxNorm code checked against the name."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from domain.errors import InvalidInputError

if TYPE_CHECKING:
    from domain.safety.pack import RulePack

RXCUI = re.compile(r"[0-9]{1,10}")
"""An RxNorm concept id as a prescriber may give it (digits; RxNav checks the rest)."""


def refuse_code_of_another_drug(drug: dict[str, Any], rxnorm: str) -> None:
    """A given RxNorm code that CareLog knows as another drug's ingredient contradicts the
    name prescribed (the export would code one drug and name another): refused. A product
    code (a strength, a form, a brand) is not in the ingredient table and is taken as given;
    so is any code for a name the rule pack does not know."""
    from services.interop.fhir.rxnorm import rxnorm_ingredients

    owner = {code: name for name, code in rxnorm_ingredients().items()}.get(rxnorm)
    if owner is None:
        return
    parts = [p for p in drug.get("ingredients") or [] if p]
    if len(parts) > 1:
        raise InvalidInputError(
            f"RxNorm {rxnorm} is {owner} alone; {drug['name']} combines "
            f"{' and '.join(parts)}: give the product's code, or none.",
            "rxnorm",
        )
    generic = drug.get("generic")
    if generic and generic != owner:
        raise InvalidInputError(
            f"RxNorm {rxnorm} is {owner}, not {drug['name']} ({generic}): give the code of "
            "the drug prescribed, or none.",
            "rxnorm",
        )


def resolve_drug(pack: RulePack | None, drug: str) -> dict[str, Any]:
    """The drug as the rule pack knows it; an unknown name is kept as typed.

    ``formulation`` is the form the typed name states ("Effexor XR" -> "XR"), None when
    it states none; orders recorded before it existed lack the key (unknown form).
    """
    from domain.safety.formulations import formulation_in

    if not isinstance(drug, str) or not drug.strip():
        raise InvalidInputError("The drug name is required.", "drug")
    name = drug.strip()
    identity = pack.identify(name) if pack is not None else None
    info = identity.single if identity is not None else None
    if identity is not None and len(identity.parts) > 1 and identity.known:
        # a combination product: the rules read its ingredients from the typed name
        return {
            "name": name,
            "generic": None,
            "classes": sorted({c for i in identity.known for c in i.classes}),
            "rxnorm": None,
            "in_rule_pack": all(p.info is not None for p in identity.parts),
            "formulation": formulation_in(name),
            "ingredients": [p.info.name if p.info else p.typed for p in identity.parts],
        }
    if info is None:
        return {
            "name": name,
            "generic": None,
            "classes": [],
            "rxnorm": None,
            "in_rule_pack": False,
            "formulation": formulation_in(name),
        }
    resolved = {
        "name": name,
        "generic": getattr(info, "name", name),
        "classes": sorted(getattr(info, "classes", ())),
        "rxnorm": getattr(info, "rxnorm", None),
        "in_rule_pack": True,
        "formulation": formulation_in(name),
    }
    per_ml = identity.parts[0].mg_per_ml if identity is not None else None
    if per_ml is not None:  # a liquid's concentration: a dose in mL is checked as mg
        resolved["mg_per_ml"] = per_ml
    return resolved
