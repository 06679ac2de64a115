"""The patient timeline: every entry with both clocks and its actor, marks for late
entries and corrections, the dose and score chart, and the "as of" control."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from selenium.webdriver.support.ui import Select

from tests.e2e.browser_support import Browser, LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.store_independent]  # one store: tests/conftest.py

MODERATE = [2, 2, 2, 2, 1, 1, 1, 1, 0]  # PHQ-9 12
MILD = [1, 1, 1, 1, 1, 1, 0, 0, 0]  # PHQ-9 6
GAD = [2, 2, 1, 1, 1, 1, 1]  # GAD-7 9
SUICIDE_ITEM_MODERATE = [2, 2, 2, 2, 1, 1, 1, 0, 1]  # PHQ-9 12, item 9 scored: an alert


def rows_of(b: Browser, kind: str) -> list[str]:
    return [r.text for r in b.find_all(f"#timeline tr.event[data-type='{kind}']")]


def story(live: LiveServer) -> dict[str, str]:
    """Sertraline 50 -> 100 -> 150 mg, two PHQ-9s (one a late entry, later corrected), a
    GAD-7 and a severe side effect."""
    pid = live.register_patient("MRN-E2E-T", "Toby Timelineson")
    order = live.prescribe(pid, "sertraline", 50)
    three_days_ago = (datetime.now(UTC) - timedelta(days=3)).isoformat()
    late = live.phq9(pid, MODERATE, effective_at=three_days_ago)
    live.change_dose(pid, order, 100)
    live.gad7(pid, GAD)
    live.change_dose(pid, order, 150, reason="still low mood")
    live.phq9(pid, MILD)
    live.post(
        f"/api/v1/patients/{pid}/side-effects",
        {"order_id": order, "effect": "nausea", "severity": "severe"},
    )
    live.post(
        f"/api/v1/patients/{pid}/corrections",
        {
            "event_id": late["event_id"],
            "fields": {"item_scores": MILD},
            "reason": "items transcribed from the wrong form",
        },
    )
    return {"pid": pid, "order": order, "late": late["event_id"]}


class TestTimeline:
    def test_every_entry_shows_both_clocks_its_actor_and_late_and_corrected_marks(
        self, browser, live: LiveServer
    ):
        ids = story(live)
        b = browser("psychiatrist").open(f"/patients/{ids['pid']}?order=oldest")
        assert b.text("h1") == "Toby Timelineson"
        events = live.get(f"/api/v1/patients/{ids['pid']}/history?limit=1000")["events"]
        assert len(b.find_all("#timeline tr.event")) == len(events)
        late = b.find(f"#timeline tr.event[data-version='{_version(events, ids['late'])}']")
        assert "late entry" in late.text
        assert "corrected by" in late.text
        correction = rows_of(b, "EntryCorrected")[0]
        assert "correction of #" in correction
        assert "wrong form" in correction
        first_dose = rows_of(b, "DoseChanged")[0]
        assert "Test psychiatrist (psychiatrist)" in first_dose
        assert "dose changed from 50 mg once daily to 100 mg" in first_dose
        assert "from 100 mg once daily to 150 mg" in rows_of(b, "DoseChanged")[1]
        recorded, effective = (
            t.get_attribute("datetime")
            for t in late.find_elements("css selector", "time")[::-1][:2]
        )
        assert datetime.fromisoformat(recorded) - datetime.fromisoformat(effective) > timedelta(
            days=2
        )
        b.shot("timeline")
        b.driver.set_window_size(820, 1180)
        b.shot("timeline-tablet")

    def test_filtering_by_kind_shows_only_those_entries(self, browser, live: LiveServer):
        ids = story(live)
        b = browser("therapist").open(f"/patients/{ids['pid']}")
        b.find("#kind-filter input[value='DoseChanged']").click()
        b.submit("#kind-filter button[type='submit']")
        b.wait_for(lambda d: "kind=DoseChanged" in d.current_url)
        types = {r.get_attribute("data-type") for r in b.find_all("#timeline tr.event")}
        assert types == {"DoseChanged"}
        assert len(rows_of(b, "DoseChanged")) == 2


def titration(live: LiveServer) -> str:
    """Eight weeks of care, entered as it happened: sertraline 50 -> 100 -> 150 mg, PHQ-9
    falling, a GAD-7, a suicide-risk alert with the week-3 PHQ-9 (the day of the 100 mg
    step) and a severe side effect two weeks later."""
    pid = live.register_patient("MRN-E2E-CH", "Charlie Chartwell")
    now = datetime.now(UTC)

    def weeks_ago(n: float) -> str:
        return (now - timedelta(weeks=n)).isoformat()

    live.phq9(pid, [3, 3, 2, 2, 2, 2, 2, 2, 0], effective_at=weeks_ago(8.1))
    order = live.prescribe(pid, "sertraline", 50, effective_at=weeks_ago(8))
    live.gad7(pid, GAD, effective_at=weeks_ago(8))
    live.post(
        f"/api/v1/patients/{pid}/medications/{order}/dose-changes",
        {
            "dose": {"amount": 100, "unit": "mg"},
            "reason": "partial response",
            "effective_at": weeks_ago(5),
        },
    )
    raised = live.phq9(pid, SUICIDE_ITEM_MODERATE, effective_at=weeks_ago(5))
    # with the next PHQ-9 reminder (measurement-based care), which the chart leaves out
    kinds = [a["kind"] for a in raised["alerts"]]
    assert sorted(kinds) == ["reassessment_due", "suicide_risk"], raised
    live.post(
        f"/api/v1/patients/{pid}/side-effects",
        {"order_id": order, "effect": "nausea", "severity": "severe", "effective_at": weeks_ago(3)},
    )
    live.post(
        f"/api/v1/patients/{pid}/medications/{order}/dose-changes",
        {
            "dose": {"amount": 150, "unit": "mg"},
            "reason": "still low mood",
            "effective_at": weeks_ago(2),
        },
    )
    return pid


class TestChart:
    def test_the_chart_has_a_point_per_dose_change_and_per_score_on_one_time_axis(
        self, browser, live: LiveServer
    ):
        pid = titration(live)
        live.phq9(pid, MILD)
        b = browser("pharmacist").open(f"/patients/{pid}")
        assert len(b.find_all("#dose-chart .dose-point")) == 3  # start, 100 mg, 150 mg
        assert len(b.find_all("#dose-chart .score-point.phq9")) == 3
        assert len(b.find_all("#dose-chart .score-point.gad7")) == 1
        assert len(b.find_all("#dose-chart .side-effect-marker")) == 1
        doses = [
            (float(p.get_attribute("cx")), float(p.get_attribute("cy")))
            for p in b.find_all("#dose-chart .dose-point")
        ]
        assert doses[0][0] < doses[1][0] < doses[2][0]  # later to the right
        assert doses[0][1] > doses[1][1] > doses[2][1]  # higher daily dose, higher up
        titles = b.driver.execute_script(
            "return [...document.querySelectorAll('#dose-chart .dose-point title')]"
            ".map(t => t.textContent);"
        )
        assert any("= 150 mg/day" in t for t in titles)
        b.find(".chart-table summary").click()
        assert len(b.find_all("#chart-data tr[data-series='dose']")) == 3
        assert len(b.find_all("#chart-data tr[data-series='score']")) == 4
        b.shot("chart")

    def test_the_alert_and_side_effect_markers_sit_at_the_time_they_applied(
        self, browser, live: LiveServer
    ):
        pid = titration(live)
        b = browser("psychiatrist").open(f"/patients/{pid}")
        markers = marker_centres(b)
        alerts = [(x, t) for kind, x, t in markers if kind == "alert"]
        effects = [(x, t) for kind, x, t in markers if kind == "side_effect"]
        assert len(alerts) == 1, markers
        assert "suicid" in alerts[0][1].lower()
        assert effects == [(effects[0][0], "Side effect: nausea (severe)")], markers
        dose_x = [float(p.get_attribute("cx")) for p in b.find_all("#dose-chart .dose-point")]
        phq9_x = [float(p.get_attribute("cx")) for p in b.find_all("#dose-chart .score-point.phq9")]
        # Weeks ago: doses at 8, 5 and 2; PHQ-9s at 8.1 and 5; the alert at 5 (raised by
        # that PHQ-9); the side effect at 3, two thirds of the way from 5 to 2.
        assert alerts[0][0] == pytest.approx(dose_x[1], abs=0.5)
        assert alerts[0][0] == pytest.approx(phq9_x[1], abs=0.5)
        assert effects[0][0] == pytest.approx(dose_x[1] + (dose_x[2] - dose_x[1]) * 2 / 3, abs=1)
        b.find(".chart-table summary").click()
        assert len(b.find_all("#chart-data tr[data-series='alert']")) == 1
        assert len(b.find_all("#chart-data tr[data-series='side_effect']")) == 1
        b.shot("chart-markers")


def marker_centres(b: Browser) -> list[tuple[str, float, str]]:
    """Each alert and side-effect marker: its kind, the centre of its shape on the time
    axis (SVG units, as the points' ``cx``) and its title."""
    found: list[list[object]] = b.driver.execute_script("""
        return [...document.querySelectorAll(
            '#dose-chart .alert-marker, #dose-chart .side-effect-marker')].map(m => {
          const box = m.getBBox();
          return [m.classList.contains('alert-marker') ? 'alert' : 'side_effect',
                  box.x + box.width / 2, m.querySelector('title').textContent];
        });""")
    return [(str(kind), float(str(x)), str(title)) for kind, x, title in found]


class TestAsOf:
    def test_the_as_of_control_redraws_the_plan_and_chart_with_the_earlier_dose(
        self, browser, live: LiveServer
    ):
        pid = live.register_patient("MRN-E2E-AS", "Ari Asofsen")
        order = live.prescribe(pid, "sertraline", 50)
        live.change_dose(pid, order, 100)
        b = browser("psychiatrist").open(f"/patients/{pid}")
        assert b.text("#medications td.dose") == "100 mg"
        options = Select(b.find("#as-of-entry"))
        prescribed = next(o for o in options.options if "Medication prescribed" in o.text)
        options.select_by_visible_text(prescribed.text)
        b.submit("#as-of-show")
        b.wait_for(lambda d: "as_of=" in d.current_url)
        assert "as known at" in b.text("#as-of-notice")
        assert b.text("#medications td.dose") == "50 mg"
        assert len(b.find_all("#dose-chart .dose-point")) == 1
        assert rows_of(b, "DoseChanged") == []
        b.shot("as-of")
        b.submit("#as-of-notice a")
        b.wait_for(lambda d: "as_of=" not in d.current_url)
        assert b.text("#medications td.dose") == "100 mg"


def _version(events: list[dict[str, object]], event_id: str) -> object:
    return next(e["version"] for e in events if e["id"] == event_id)


class TestTrials:
    def test_the_trials_table_lists_each_trial_newest_first_above_the_entries(
        self, browser, live: LiveServer
    ):
        pid = live.register_patient("MRN-E2E-TR", "Tess Trialworth")
        now = datetime.now(UTC)

        def days_ago(n: float) -> str:
            return (now - timedelta(days=n)).isoformat()

        live.phq9(pid, [3, 3, 3, 3, 3, 2, 2, 1, 0], effective_at=days_ago(120))  # 20
        first = live.prescribe(pid, "fluoxetine", 20, effective_at=days_ago(118))
        live.phq9(pid, [3, 3, 3, 3, 3, 2, 1, 1, 0], effective_at=days_ago(70))  # 19
        live.post(
            f"/api/v1/patients/{pid}/medications/{first}/discontinuation",
            {"reason": "no effect", "taper": "over 1 week", "effective_at": days_ago(65)},
        )
        second = live.prescribe(pid, "sertraline", 50, effective_at=days_ago(60))
        live.phq9(pid, MILD)

        b = browser("psychiatrist").open(f"/patients/{pid}")

        rows = b.find_all("#trials-table tr.trial")
        assert [r.get_attribute("data-trial-id") for r in rows] == [second, first]
        assert "ongoing" in rows[0].text
        assert rows[1].find_element("css selector", ".outcome").text == "minimal improvement"
        assert "no effect" in rows[1].text
        assert "adequate" in rows[1].text
        heading_y = b.find("#trials-heading").location["y"]
        assert heading_y < b.find("#events-heading").location["y"]  # above the entries
        spans = b.find_all("#dose-chart path.trial-span")
        assert len(spans) == 2
        starts = [float(d.split()[1]) for d in (s.get_attribute("d") for s in spans)]
        assert starts[0] < starts[1]  # oldest trial first, drawn from its start
        assert "minimal-improvement" in spans[0].get_attribute("class")
        b.shot("trials")

    def test_as_of_before_the_second_trial_shows_only_the_first(self, browser, live: LiveServer):
        pid = live.register_patient("MRN-E2E-TR2", "Tom Trialsby")
        live.prescribe(pid, "sertraline", 50)
        b = browser("psychiatrist").open(f"/patients/{pid}")
        assert len(b.find_all("#trials-table tr.trial")) == 1
        live.prescribe(pid, "mirtazapine", 15)
        b.open(f"/patients/{pid}")
        assert len(b.find_all("#trials-table tr.trial")) == 2
        options = Select(b.find("#as-of-entry"))
        prescribed = next(o for o in options.options if "Medication prescribed" in o.text)
        options.select_by_visible_text(prescribed.text)
        b.submit("#as-of-show")
        b.wait_for(lambda d: "as_of=" in d.current_url)
        assert len(b.find_all("#trials-table tr.trial")) == 1


class TestTimelineHeaderAndOrder:
    def test_the_header_shows_age_allergies_diagnoses_and_care_team(
        self, browser, live: LiveServer
    ):
        pid = live.post(
            "/api/v1/patients",
            {
                "external_id": "MRN-E2E-HEAD",
                "name": "Harley Headerton",
                "birth_date": "1984-05-06",
                "allergies": ["penicillin"],
            },
        )["patient_id"]
        live.post(
            f"/api/v1/patients/{pid}/assessments",
            {"instrument": "clinical", "diagnoses": ["F32.1"], "summary": "Depressive episode"},
        )
        b = browser("psychiatrist").open(f"/patients/{pid}")
        today = datetime.now(UTC).date()
        age = today.year - 1984 - ((today.month, today.day) < (5, 6))
        assert b.text("#patient-age") == f"{age} years"
        assert b.text("#patient-allergies") == "penicillin"
        assert b.text("#patient-diagnoses") == (
            "F32.1 Major depressive disorder, single episode, moderate"
        )
        scores = b.text("#scores")
        assert scores.startswith("Clinical assessment F32.1 ·"), scores
        assert "\u2013" not in scores  # no dash standing for a missing total
        assert "Test psychiatrist (psychiatrist)" in b.text("#patient-care-team")
        b.shot("header")

    def test_entries_run_newest_first_with_a_toggle_for_oldest(self, browser, live: LiveServer):
        pid = titration(live)
        b = browser("psychiatrist").open(f"/patients/{pid}")
        versions = [int(r.get_attribute("data-version")) for r in b.find_all("#timeline tr.event")]
        assert versions == sorted(versions, reverse=True)
        Select(b.find("#order")).select_by_value("oldest")
        b.submit("#kind-filter button[type='submit']")
        versions = [int(r.get_attribute("data-version")) for r in b.find_all("#timeline tr.event")]
        assert versions == sorted(versions)
