"""Page sessions as server-side records: each ends on its own sign-out, at its expiry, and
with the account (deactivated, or its token changed by any means)."""

from __future__ import annotations

from datetime import timedelta

from services.bootstrap import CareLog

SHIFT = timedelta(hours=8)


class TestStaffSessions:
    def test_signing_out_ends_that_session_only(self, carelog: CareLog) -> None:
        staff = carelog.staff
        _, token = staff.add("Two Browsers", "therapist")
        first = staff.start_session(token, "192.0.2.1", SHIFT)
        second = staff.start_session(token, "192.0.2.2", SHIFT)
        assert first is not None
        assert second is not None
        staff.sessions.end(first[1])
        assert staff.session_member(first[1]) is None
        assert staff.session_member(second[1]) is not None

    def test_an_expired_session_is_refused(self, carelog: CareLog) -> None:
        staff = carelog.staff
        _, token = staff.add("Long Shift", "therapist")
        started = staff.start_session(token, None, timedelta(seconds=-1))
        assert started is not None
        assert staff.session_member(started[1]) is None

    def test_a_token_changed_behind_the_registrys_back_ends_the_session(
        self, carelog: CareLog
    ) -> None:
        staff = carelog.staff
        member, token = staff.add("Restored Backup", "pharmacist")
        started = staff.start_session(token, None, SHIFT)
        assert started is not None
        carelog.db.execute("UPDATE staff SET token_hash = 'replaced' WHERE id = ?", (member.id,))
        assert staff.session_member(started[1]) is None
        assert staff.authenticate(token) is None  # the cached verification is not trusted

    def test_a_session_secret_is_never_stored(self, carelog: CareLog) -> None:
        staff = carelog.staff
        _, token = staff.add("Careful Person", "psychiatrist")
        started = staff.start_session(token, None, SHIFT)
        assert started is not None
        rows = carelog.db.query("SELECT * FROM staff_session")
        assert started[1] not in str(rows)
        assert token.partition(".")[2] not in str(rows)
