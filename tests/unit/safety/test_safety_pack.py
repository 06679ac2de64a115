"""The rule pack: what it covers, how it finds drugs, and how it refuses a malformed file."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from domain.safety import RulePackError, default_pack, load_rule_pack

RAW: dict[str, Any] = json.loads(
    resources.files("domain.safety").joinpath("rulepack.json").read_text("utf-8")
)

_REFERENCE_NAMES = """
phenelzine tranylcypromine isocarboxazid selegiline clomipramine linezolid methylphenidate
amphetamine meperidine tramadol methadone fentanyl sumatriptan lithium buspirone ibuprofen
naproxen diclofenac celecoxib carbamazepine methyldopa phenytoin haloperidol clozapine
fluvoxamine ciprofloxacin enoxacin paroxetine fluoxetine bupropion duloxetine sertraline
escitalopram erythromycin cimetidine tizanidine ramelteon thioridazine pimozide alosetron
citalopram omeprazole fluconazole ziprasidone chlorpromazine moxifloxacin quetiapine
quinidine aripiprazole brexpiprazole vortioxetine atomoxetine tamoxifen codeine lamotrigine
valproate divalproex phenobarbital primidone rifampin lurasidone ketoconazole clarithromycin
ritonavir theophylline venlafaxine desvenlafaxine mirtazapine trazodone olanzapine
risperidone clonazepam alprazolam lorazepam diazepam droperidol iloperidone prednisone
lisinopril losartan hydrochlorothiazide zolpidem
"""
NAMED_IN_REFERENCE = _REFERENCE_NAMES.split()


def write(tmp_path: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    raw = copy.deepcopy(RAW)
    change(raw)
    path = tmp_path / "pack.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    return path


class TestShippedPack:
    def test_the_shipped_pack_loads_and_says_it_needs_clinical_review(self) -> None:
        pack = load_rule_pack()
        assert "requires clinical review before use with real patients" in pack.disclaimer
        assert pack.version == RAW["version"]

    def test_it_covers_every_interaction_row_of_the_reference(self) -> None:
        rows = {
            rule_id.split("-")[1][:2]
            for rule_id in default_pack().rule_ids()
            if rule_id.startswith("DDI-")
        }
        assert rows >= {f"{n:02d}" for n in range(1, 32)}

    def test_it_has_a_maximum_for_every_drug_of_the_dose_table_but_lithium(self) -> None:
        drugs = {limit.drug for limit in default_pack().dose_limits}
        table = {
            "sertraline", "fluoxetine", "escitalopram", "citalopram", "paroxetine", "venlafaxine",
            "duloxetine", "bupropion", "mirtazapine", "trazodone", "vortioxetine", "quetiapine",
            "aripiprazole", "olanzapine", "risperidone", "ziprasidone", "clozapine", "lamotrigine",
            "valproate", "carbamazepine", "clonazepam", "alprazolam", "lorazepam", "buspirone",
        }  # fmt: skip
        assert table <= drugs
        assert "lithium" not in drugs

    @pytest.mark.parametrize("name", NAMED_IN_REFERENCE)
    def test_every_drug_the_reference_names_is_in_the_pack(self, name: str) -> None:
        assert default_pack().drug(name) is not None

    def test_every_rule_names_its_source_and_evidence(self) -> None:
        pack = default_pack()
        rules: list[Any] = [
            *pack.interactions,
            *pack.dose_limits,
            *pack.tapers,
            *pack.titrations,
            *pack.washouts,
            *pack.monitoring,
            *pack.assessments,
            *pack.lab_ranges,
            *pack.side_effects,
        ]
        assert all(r.rule.source and r.rule.evidence in ("V", "K") for r in rules)
        assert len({r.rule.id for r in rules}) == len(rules)


class TestDrugNames:
    @pytest.mark.parametrize(
        ("typed", "generic"),
        [("Zoloft", "sertraline"), ("sertraline hydrochloride", "sertraline"),
         ("SERTRALINE HCl 50 mg", "sertraline"), ("Effexor XR", "venlafaxine"),
         ("Wellbutrin XL", "bupropion"), ("lithium carbonate", "lithium"),
         ("divalproex sodium", "valproate"), ("Depakote ER", "valproate"),
         ("St. John's Wort", "st johns wort"), ("Seroquel XR", "quetiapine"),
         ("Invega Sustenna", "paliperidone"), ("rifampicin", "rifampin")],
    )  # fmt: skip
    def test_brands_salts_and_case_reach_the_generic(self, typed: str, generic: str) -> None:
        found = default_pack().drug(typed)
        assert found is not None
        assert found.name == generic

    def test_an_unknown_name_is_not_guessed(self) -> None:
        assert default_pack().drug("sertra") is None
        assert default_pack().drug("amoxicillin") is None

    def test_a_generic_name_returned_by_the_pack_is_found_again(self) -> None:
        pack = default_pack()
        assert all(pack.drug(name) is info for name, info in pack.drugs.items())

    def test_recorded_test_names_reach_the_pack_vocabulary(self) -> None:
        assert default_pack().lab_test("eGFR") == "renal_function"
        assert default_pack().lab_test("Lithium") == "lithium_level"


def _set(path: list[Any], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(raw: dict[str, Any]) -> None:
        target: Any = raw
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value

    return change


def _drop(path: list[Any]) -> Callable[[dict[str, Any]], None]:
    def change(raw: dict[str, Any]) -> None:
        target: Any = raw
        for part in path[:-1]:
            target = target[part]
        del target[path[-1]]

    return change


def _duplicate_id(raw: dict[str, Any]) -> None:
    raw["tapers"][1]["id"] = raw["tapers"][0]["id"]


def _index(section: str, rule_id: str) -> int:
    return next(i for i, r in enumerate(RAW[section]) if r["id"] == rule_id)


DDI07 = _index("interactions", "DDI-07")
MAXCIT = _index("dose_limits", "MAX-CITALOPRAM")
MONLI = _index("monitoring", "MON-LITHIUM-LEVEL")


class TestMalformedPack:
    @pytest.mark.parametrize(
        ("change", "names"),
        [
            (_set(["interactions", DDI07, "b", "classes"], ["nsaids"]), ["DDI-07", "nsaids"]),
            (_set(["interactions", DDI07, "severity"], "severe"), ["DDI-07", "severity"]),
            (_drop(["interactions", DDI07, "source"]), ["DDI-07", "source"]),
            (_set(["interactions", DDI07, "evidence"], "X"), ["DDI-07", "evidence"]),
            (_set(["interactions", DDI07, "message"], "{drug} with {b}"), ["DDI-07", "message"]),
            (_set(["interactions", DDI07, "superseded_by"], ["DDI-99"]), ["DDI-07", "DDI-99"]),
            (
                _set(["dose_limits", MAXCIT, "max_mg_per_day"], "forty"),
                ["MAX-CITALOPRAM", "max_mg_per_day"],
            ),
            (
                _set(["dose_limits", MAXCIT, "adjustments", 0, "mode"], "halve"),
                ["MAX-CITALOPRAM", "mode"],
            ),
            (_set(["dose_limits", MAXCIT, "drug"], "citalopramm"), ["MAX-CITALOPRAM", "drug"]),
            (_set(["monitoring", MONLI, "test"], "lithium"), ["MON-LITHIUM-LEVEL", "test"]),
            (
                _set(["monitoring", MONLI, "schedule", "type"], "sometimes"),
                ["MON-LITHIUM-LEVEL", "type"],
            ),
            (_duplicate_id, [RAW["tapers"][0]["id"], "id"]),
            (_set(["drugs", "sertraline", "classes"], ["ssri", "happy"]), ["sertraline", "happy"]),
            (_set(["drugs", "sertraline", "aliases"], ["Prozac"]), ["sertraline", "Prozac"]),
            (_set(["disclaimer"], "use freely"), ["disclaimer"]),
            (_drop(["interactions", DDI07, "id"]), ["interactions[", "id"]),
        ],
    )
    def test_a_malformed_pack_is_refused_with_the_rule_and_field_named(
        self, tmp_path: Path, change: Callable[[dict[str, Any]], None], names: list[str]
    ) -> None:
        with pytest.raises(RulePackError) as raised:
            load_rule_pack(write(tmp_path, change))
        for name in names:
            assert name in str(raised.value)

    def test_a_file_that_is_not_json_is_refused(self, tmp_path: Path) -> None:
        path = tmp_path / "pack.json"
        path.write_text("{not json", encoding="utf-8")
        with pytest.raises(RulePackError, match="cannot read"):
            load_rule_pack(path)

    def test_an_unchanged_copy_loads(self, tmp_path: Path) -> None:
        assert load_rule_pack(write(tmp_path, lambda raw: None)).version == RAW["version"]


SECTIONS = ("interactions", "dose_limits", "tapers", "titrations", "washouts", "monitoring",
            "assessments", "lab_ranges", "side_effect_rules")  # fmt: skip
OPTIONAL_WHEN_NULL = {"basis", "when", "drug_severity", "days_by_drug", "superseded_by",
                      "inpatient_max_mg_per_day", "advisory"}  # fmt: skip
"""Fields whose null means "not given" (and the rule is complete without them)."""


def _one_rule_per_field() -> list[tuple[str, int, str, str]]:
    """For each section, rule type and field: the first rule that has it (rules of one
    type are read by the same code, so one witness per field covers them)."""
    cases: dict[tuple[str, str, str], tuple[str, int, str, str]] = {}
    for section in SECTIONS:
        for index, rule in enumerate(RAW[section]):
            for name in rule:
                if name != "id":
                    where = (section, str(rule.get("type", "")), name)
                    cases.setdefault(where, (section, index, rule["id"], name))
    return list(cases.values())


FIELD_CASES = _one_rule_per_field()


def _with_field(
    section: str, index: int, name: str, value: Any
) -> Callable[[dict[str, Any]], None]:
    def change(raw: dict[str, Any]) -> None:
        raw[section][index][name] = value

    return change


def _refusal(tmp_path: Path, change: Callable[[dict[str, Any]], None]) -> str | None:
    """The loader's RulePackError message, None if the pack loaded; any other exception
    propagates and fails the test."""
    try:
        load_rule_pack(write(tmp_path, change))
    except RulePackError as raised:
        return str(raised)
    return None


EACH_FIELD = pytest.mark.parametrize(
    ("section", "index", "rule_id", "name"),
    FIELD_CASES,
    ids=[f"{rule_id}.{name}" for _, _, rule_id, name in FIELD_CASES],
)
"""Each field of each rule type: the section, the rule's index in it, its id, the field."""


class TestEveryFieldOfEveryRuleType:
    """A broken field anywhere is refused by the loader with the rule and field named,
    never a raw TypeError or KeyError from deep inside a reader."""

    @EACH_FIELD
    def test_a_field_of_the_wrong_shape_is_refused_naming_the_rule_and_field(
        self, tmp_path: Path, section: str, index: int, rule_id: str, name: str
    ) -> None:
        message = _refusal(tmp_path, _with_field(section, index, name, {"unexpected": 1}))
        assert message is not None
        assert rule_id in message
        assert name in message or name in ("a", "b", "drugs", "stopped", "other", "start")

    @EACH_FIELD
    def test_a_null_required_field_is_refused_naming_the_rule(
        self, tmp_path: Path, section: str, index: int, rule_id: str, name: str
    ) -> None:
        message = _refusal(tmp_path, _with_field(section, index, name, None))
        if name in OPTIONAL_WHEN_NULL:
            return
        assert message is not None
        assert rule_id in message

    @pytest.mark.parametrize("section", SECTIONS)
    def test_a_rule_that_is_not_an_object_is_refused_naming_its_place(
        self, tmp_path: Path, section: str
    ) -> None:
        with pytest.raises(RulePackError, match=rf"{section}\[0\]"):
            load_rule_pack(write(tmp_path, _set([section, 0], ["not", "a", "rule"])))


MAXVPA = _index("dose_limits", "MAX-VALPROATE")


@pytest.mark.parametrize(
    ("change", "names"),
    [
        (
            _set(["dose_limits", MAXVPA, "ceiling_mg_per_day"], "lots"),
            ["MAX-VALPROATE", "ceiling_mg_per_day"],
        ),
        (
            _set(["dose_limits", MAXCIT, "ceiling_mg_per_day"], 60),
            ["MAX-CITALOPRAM", "ceiling_mg_per_day", "per-kg"],
        ),
    ],
)
def test_an_absolute_ceiling_must_be_a_number_on_a_per_kg_limit(
    tmp_path: Path, change: Callable[[dict[str, Any]], None], names: list[str]
) -> None:
    with pytest.raises(RulePackError) as raised:
        load_rule_pack(write(tmp_path, change))
    for name in names:
        assert name in str(raised.value)


def test_a_per_kg_limit_may_carry_an_absolute_ceiling(tmp_path: Path) -> None:
    pack = load_rule_pack(
        write(tmp_path, _set(["dose_limits", MAXVPA, "ceiling_mg_per_day"], 3000))
    )
    limit = next(rule for rule in pack.dose_limits if rule.rule.id == "MAX-VALPROATE")
    assert limit.ceiling_mg_per_day == 3000


def test_the_readme_lists_every_drug_and_class_of_the_pack() -> None:
    """The README's coverage lists are the pack's own (regenerate them when it changes)."""
    import json
    import re
    from importlib import resources
    from pathlib import Path

    pack = json.loads(resources.files("domain.safety").joinpath("rulepack.json").read_text())
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text()
    block = readme.split("<!-- rulepack-coverage -->")[1].split("<!-- /rulepack-coverage -->")[0]
    drugs, classes = (
        re.search(rf"\*\*{h}\*\* \((\d+)[^)]*\): ([^.]+)\.", block)
        for h in ("Drugs the pack knows", "Classes")
    )
    assert drugs is not None
    assert classes is not None
    assert drugs.group(2).split(", ") == sorted(pack["drugs"])
    assert int(drugs.group(1)) == len(pack["drugs"])
    assert classes.group(2).split(", ") == sorted(pack["classes"])
