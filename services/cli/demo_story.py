"""One demo patient's months of care, told through the real commands on a simulated clock:
registration, prescriptions and titration, scores, side effects, follow-ups, a late entry
and a correction, so every view and feed has something true to show.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from domain import commands as c
from domain.actor import Actor
from domain.command_context import CommandContext
from domain.dose import Dose
from services.bootstrap import CareLog
from services.cli.demo_staff import DemoStaff
from services.writing.application import WriteResult

FIRST = (
    "Alex",
    "Blair",
    "Casey",
    "Devon",
    "Emery",
    "Finley",
    "Gray",
    "Harper",
    "Indy",
    "Jules",
    "Kai",
    "Lane",
    "Morgan",
    "Noel",
    "Oakley",
    "Parker",
    "Quinn",
    "Rowan",
    "Sage",
    "Toby",
)


LAST = ("Testwood", "Mockford", "Sampleton", "Fakeley", "Demoson")


COURSES = (
    ("sertraline", 50.0, 50.0, 200.0, "F32.1"),
    ("escitalopram", 10.0, 5.0, 20.0, "F41.1"),
    ("fluoxetine", 20.0, 20.0, 60.0, "F32.1"),
    ("venlafaxine", 75.0, 75.0, 225.0, "F33.1"),
    # The formulation named: bupropion above 150 mg a dose is an XL (or SR) product.
    ("bupropion XL", 150.0, 150.0, 300.0, "F32.0"),
    ("mirtazapine", 15.0, 15.0, 45.0, "F32.2"),
)


class Story:
    """One patient's course, told through the real commands on a simulated clock."""

    def __init__(self, carelog: CareLog, staff: DemoStaff, number: int, start: datetime) -> None:
        self.carelog = carelog
        self.staff = staff
        self.rng = random.Random(number)
        self.number = number
        self.now = start
        self.patient_id = ""

    def ctx(self, actor: Actor) -> CommandContext:
        return CommandContext(actor=actor, now=self.now)

    def later(self, days: float) -> None:
        self.now += timedelta(days=days, minutes=self.rng.randint(0, 600))

    def do(self, actor: Actor, command: c.RecordCommand) -> WriteResult:
        return self.carelog.commands.execute(self.ctx(actor), self.patient_id, command)

    def phq9(self, total: int, item9: int = 0) -> list[int]:
        items = [0] * 9
        items[8] = item9
        remaining = max(total - item9, 0)
        while remaining > 0:
            i = self.rng.randrange(8)
            if items[i] < 3:
                items[i] += 1
                remaining -= 1
        return items

    def gad7(self, total: int) -> list[int]:
        items = [0] * 7
        while total > 0:
            i = self.rng.randrange(7)
            if items[i] < 3:
                items[i] += 1
                total -= 1
        return items

    def tell(self) -> None:
        p, t, ph = self.staff.psychiatrist, self.staff.therapist, self.staff.pharmacist
        name = f"{FIRST[self.number % len(FIRST)]} {LAST[self.number % len(LAST)]}"
        born = date(1950 + self.rng.randrange(50), self.rng.randint(1, 12), 15)
        result = self.carelog.commands.register_patient(
            self.ctx(p),
            c.RegisterPatient(
                external_id=f"DEMO-{self.number:04d}",
                name=name,
                birth_date=born,
                allergies=["penicillin"] if self.number % 4 == 0 else [],
            ),
        )
        self.patient_id = result.patient_id
        self.do(p, c.AssignCareTeamMember(clinician_id=t.id, role="therapist"))
        self.do(p, c.AssignCareTeamMember(clinician_id=ph.id, role="pharmacist"))
        self.do(p, c.RecordConsent(scope="treatment", decision="granted"))
        self.do(p, c.RecordConsent(scope="medication", decision="granted"))
        drug, start, step, top, diagnosis = COURSES[self.number % len(COURSES)]
        top = self._age_adjusted_top(drug, born.isoformat(), top)
        score = self.rng.randint(15, 22)
        self.do(t, c.RecordAssessment(instrument="PHQ-9", item_scores=self.phq9(score)))
        anxiety = self.rng.randint(8, 16)
        self.do(t, c.RecordAssessment(instrument="GAD-7", item_scores=self.gad7(anxiety)))
        self.do(
            p,
            c.RecordAssessment(
                instrument="clinical",
                diagnoses=[diagnosis],
                summary="Synthetic demo assessment: depressive episode, no psychosis.",
            ),
        )
        self.do(p, c.SetGoal(description="PHQ-9 below 10", target="PHQ-9 < 10"))
        self.later(1)
        order = self.do(
            p,
            c.Prescribe(
                drug=drug,
                dose=Dose(start, "mg"),
                frequency="once daily",
                route="oral",
                indication="Major depressive disorder",
            ),
        ).ids["order_id"]
        self.do(
            ph,
            c.RecordEducation(
                topic=f"Starting {drug}: what to expect",
                order_id=order,
                materials="Synthetic leaflet",
            ),
        )
        self.do(
            t,
            c.AddNote(
                kind="psychotherapy",
                modality="CBT",
                text=f"Synthetic CBT session 1 for demo patient {self.number}.",
            ),
        )
        dose = start
        for week in range(1, 9):
            self.later(7)
            score = max(score - self.rng.randint(0, 3), 2)
            self.do(t, c.RecordAssessment(instrument="PHQ-9", item_scores=self.phq9(score)))
            if week % 2 == 0:  # GAD-7 every other week: anxiety eases a little more slowly
                anxiety = max(anxiety - self.rng.randint(0, 2), 1)
                self.do(t, c.RecordAssessment(instrument="GAD-7", item_scores=self.gad7(anxiety)))
            if week in (2, 5) and dose + step <= top:
                dose += step
                self.do(
                    p,
                    c.ChangeDose(
                        order_id=order, dose=Dose(dose, "mg"), reason="Partial response; titrating"
                    ),
                )
            if week == 3:
                self.do(
                    t,
                    c.ReportSideEffect(
                        order_id=order,
                        effect="nausea",
                        severity="mild",
                        action_taken="Take with food",
                    ),
                )
            if week == 4:
                self.do(
                    p,
                    c.AddNote(
                        kind="progress",
                        modality="supportive",
                        text="Synthetic progress note: tolerating medication.",
                    ),
                )
                self.do(
                    ph,
                    c.RecordAdherence(
                        order_id=order,
                        doses_taken=26,
                        doses_missed=2,
                        period_start=(self.now - timedelta(days=28)).date(),
                        period_end=self.now.date(),
                    ),
                )
            if week == 6:
                self.do(
                    t,
                    c.AddNote(
                        kind="progress",
                        modality="CBT",
                        text="Synthetic therapist progress note: engaging well with CBT homework.",
                    ),
                )
                self.do(
                    ph,
                    c.ReviewPlan(
                        outcome="no changes",
                        summary="Synthetic medication review: no interactions of concern.",
                    ),
                )
            self._complete_due_follow_ups(p)
        self._maintenance(t, score, anxiety)
        if self.number == 3:
            self._new_passive_suicidal_thoughts(t, score)
        self._late_entry_and_correction(p, t, order)

    def _age_adjusted_top(self, drug: str, born: str, top: float) -> float:
        """The titration stays within the rule pack's own limits: escitalopram at most
        10 mg/day from 65 (MAX-ESCITALOPRAM), so no demo plan contradicts its alerts."""
        age = (self.now.date() - datetime.fromisoformat(born).date()).days // 365
        return min(top, 10.0) if drug == "escitalopram" and age >= 65 else top

    def _new_passive_suicidal_thoughts(self, t: Actor, score: int) -> None:
        """One patient's latest PHQ-9, yesterday, answers item 9 with 1: the open
        urgent alert is recent and dated, as a new one in a real service would be (an
        item-9 answer left unassessed for months would contradict the rule's own "the
        same day")."""
        self.now = max(self.now, datetime.now(UTC) - timedelta(hours=20))
        self.do(t, c.RecordAssessment(instrument="PHQ-9", item_scores=self.phq9(score + 3, 1)))

    def _complete_due_follow_ups(self, p: Actor) -> None:
        """The check-ins that dose changes scheduled take place when they fall due."""
        plan = self.carelog.app.get_record(self.patient_id).plan
        for follow_up_id, follow_up in plan.follow_ups.items():
            if follow_up.status == "scheduled" and follow_up.due_at <= self.now:
                self.do(
                    p,
                    c.CompleteFollowUp(
                        follow_up_id=follow_up_id,
                        outcome="Synthetic check-in: tolerating the new dose, no new concerns.",
                    ),
                )

    def _maintenance(self, t: Actor, score: int, anxiety: int) -> None:
        """Monthly reviews after the acute phase, never past the present."""
        for _ in range(3):
            before = self.now
            self.later(28)
            if self.now >= datetime.now(UTC) - timedelta(days=1):
                self.now = before  # (the next entry is never dated in the future)
                return
            score = max(score - self.rng.randint(0, 2), 1)
            anxiety = max(anxiety - self.rng.randint(0, 1), 1)
            self.do(t, c.RecordAssessment(instrument="PHQ-9", item_scores=self.phq9(score)))
            self.do(t, c.RecordAssessment(instrument="GAD-7", item_scores=self.gad7(anxiety)))

    def _late_entry_and_correction(self, p: Actor, t: Actor, order: str) -> None:
        if self.number % 5 == 1:  # a late entry: a side effect from last week, told today
            self.later(2)
            self.do(
                t,
                c.ReportSideEffect(
                    order_id=order,
                    effect="insomnia",
                    severity="moderate",
                    effective_at=self.now - timedelta(days=6),
                ),
            )
        if self.number % 5 == 2:  # a mistyped dose, corrected by its author
            self.later(1)
            result = self.do(t, c.RecordLabResult(test="weight", value=81.0, unit="kg"))
            self.do(
                t,
                c.CorrectEntry(
                    event_id=result.event_id, fields={"value": 79.5}, reason="Mistyped weight"
                ),
            )
