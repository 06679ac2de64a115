"""Which courses a rule's drug side covers: named drugs, whole classes, maybe one route.

"Linezolid or IV methylene blue", "any strong CYP2D6 inhibitor", "systemic steroids": a
side names drugs and classes, and may restrict them to routes (methylene blue matters
intravenously, a steroid cream does not lower the seizure threshold).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from domain.safety.drugs import DrugInfo
from domain.safety.plan_view import Course
from domain.safety.records import Record, Vocabulary

ROUTES = frozenset(
    {"oral", "sublingual", "buccal", "intramuscular", "intravenous", "subcutaneous",
     "transdermal", "intranasal", "inhaled", "rectal", "topical", "vaginal"}
)  # fmt: skip


@dataclass(frozen=True)
class Side:
    """A set of drugs: by name, by class, optionally only by some routes."""

    drugs: frozenset[str]
    classes: frozenset[str]
    routes: frozenset[str] = frozenset()

    def covers(self, info: DrugInfo | None) -> bool:
        """Whether the drug belongs to the side, whatever the route."""
        return info is not None and (info.name in self.drugs or bool(info.classes & self.classes))

    def matches(self, course: Course) -> bool:
        return self.covers(course.info) and (not self.routes or course.route in self.routes)

    def members(self, drugs: Mapping[str, DrugInfo]) -> list[str]:
        """Every drug of the pack the side covers, sorted (tests build cases from these)."""
        return sorted(name for name, info in drugs.items() if self.covers(info))


def read_side(record: Record, vocabulary: Vocabulary) -> Side:
    """A side: ``{"drugs": [...], "classes": [...], "routes": [...]}``, not empty."""
    drugs = record.names("drugs", vocabulary.drugs, "drug")
    classes = record.names("classes", vocabulary.classes, "class")
    routes = record.names("routes", ROUTES, "route")
    if not drugs and not classes:
        raise record.fail("drugs", "and 'classes' are both empty: the side matches nothing")
    return Side(frozenset(drugs), frozenset(classes), frozenset(routes))


def matching(courses: Iterable[Course], side: Side) -> tuple[Course, ...]:
    return tuple(c for c in courses if side.matches(c))


def labels(courses: Iterable[Course]) -> str:
    """Drug names for a message, each once, in a stable order: "fluoxetine and omeprazole"."""
    names = sorted({c.label for c in courses})
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]
