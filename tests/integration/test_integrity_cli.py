"""``carelog verify``, ``carelog checkpoint`` and ``carelog keys``, as an auditor runs them."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

import pytest

from services.bootstrap import CareLog
from services.cli.main import main
from services.config import Config
from tests.conftest import Team
from tests.integration.tamper import RawLog, seed

Damage = Callable[[int, Callable[[RawLog], object]], None]


@pytest.fixture
def damaged(carelog: CareLog, team: Team, cli_store: Config) -> Damage:
    """``damaged(patients, edit)``: a store of ``patients`` seeded patients, then ``edit``
    made to it directly in the database (the CLI reads the store from the environment)."""

    def damage(patients: int, edit: Callable[[RawLog], object]) -> None:
        seed(carelog, team, patients=patients)
        with RawLog(cli_store) as raw:
            edit(raw)

    return damage


class TestVerifyCommand:
    @pytest.mark.usefixtures("cli_store")
    def test_an_untouched_store_verifies_with_exit_status_zero(
        self, carelog: CareLog, team: Team, capsys: pytest.CaptureFixture[str]
    ) -> None:
        seed(carelog, team, patients=2)
        assert main(["checkpoint"]) == 0
        assert main(["verify"]) == 0
        out = capsys.readouterr().out
        assert "carelog verify: ok" in out
        assert "1 checkpoint(s)" in out

    def test_a_tampered_store_fails_naming_the_first_bad_position_and_what_is_wrong(
        self, damaged: Damage, capsys: pytest.CaptureFixture[str]
    ) -> None:
        damaged(2, lambda raw: raw.delete(5))
        assert main(["verify"]) == 1
        out = capsys.readouterr().out
        assert "FAILED at events position 5: missing" in out

    def test_json_output_carries_the_first_problem(
        self, damaged: Damage, capsys: pytest.CaptureFixture[str]
    ) -> None:
        damaged(2, lambda raw: raw.flip_state_byte(7))
        assert main(["verify", "--json"]) == 1
        report = json.loads(capsys.readouterr().out)
        assert report["ok"] is False
        assert report["first_problem"]["position"] == 7
        assert report["first_problem"]["kind"] == "changed"

    def test_verify_from_a_position_skips_damage_before_it(
        self, damaged: Damage, capsys: pytest.CaptureFixture[str]
    ) -> None:
        damaged(2, lambda raw: raw.flip_state_byte(2))
        assert main(["verify", "--from", "3"]) == 0
        assert main(["verify", "--from", "2"]) == 1


class TestCheckpointCommand:
    def test_a_damaged_log_is_refused_a_checkpoint(
        self, damaged: Damage, capsys: pytest.CaptureFixture[str]
    ) -> None:
        damaged(1, lambda raw: raw.flip_state_byte(2))
        assert main(["checkpoint"]) == 1
        assert "refused" in capsys.readouterr().out


class TestKeysCommand:
    def test_keys_generate_prints_a_new_aes_256_key(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert main(["keys", "generate"]) == 0
        first = capsys.readouterr().out.strip()
        assert main(["keys", "generate"]) == 0
        second = capsys.readouterr().out.strip()
        assert len(base64.b64decode(first)) == 32
        assert first != second
