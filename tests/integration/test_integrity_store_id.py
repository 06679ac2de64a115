"""Signed artefacts that outlive what they vouch for (red-team F1, F2), through the real
``carelog verify``: a heartbeat naming a checkpoint newer than any left, and a store id
rewritten to turn the store's own checkpoints into "another store's"."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.bootstrap import CareLog
from services.config import Config
from tests.conftest import Team
from tests.integration.tamper import RawLog, seed
from tests.integration.test_integrity_vanishing import (
    carelog_cli,
    remove_checkpoints,
    rewrite_after,
    signed_rounds,
)


@pytest.fixture
def config(config: Config) -> Config:
    return config.with_(checkpoint_interval=0.0)  # checkpoints on demand only


def truncate_after(config: Config, position: int) -> None:
    """Delete every event (and its chain link) after ``position``: the records only the
    removed checkpoints covered."""
    with RawLog(config) as raw:
        raw.run(f"DELETE FROM {raw.events} WHERE {raw.pos} > ?", (position,))
        raw.run(f"DELETE FROM {raw.chain} WHERE position > ?", (position,))


class TestAHeartbeatNamingARemovedCheckpoint:
    def test_the_newest_checkpoint_and_its_records_removed_fail_against_the_pinned_key(
        self, carelog: CareLog, team: Team, config: Config, pinned: Path, auditor: dict[str, str]
    ) -> None:
        first, second = signed_rounds(carelog, team, 2)
        assert carelog.integrity.checkpoint() == second  # nothing moved: a heartbeat for 2
        remove_checkpoints(config, 2, rows=True)
        truncate_after(config, first.chains["events"].position)
        code, out = carelog_cli(
            config, "verify", "--public-key", str(pinned), "--strict", env=auditor
        )
        assert code == 1, out
        assert "names checkpoint 2 as the newest, but the newest left is 1" in out

    def test_an_untouched_store_with_a_heartbeat_verifies(
        self, carelog: CareLog, team: Team, config: Config, pinned: Path, auditor: dict[str, str]
    ) -> None:
        _, second = signed_rounds(carelog, team, 2)
        assert carelog.integrity.checkpoint() == second
        code, out = carelog_cli(
            config, "verify", "--public-key", str(pinned), "--strict", env=auditor
        )
        assert code == 0, out


class TestAChangedStoreId:
    @pytest.fixture
    def config(self, config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Config:
        """The store's own default checkpoint folder (no CARELOG_CHECKPOINT_DIR), under a
        working directory of the test's own."""
        monkeypatch.chdir(tmp_path)
        return config.with_(checkpoint_dir=None)

    def change_store_id(self, config: Config) -> None:
        with RawLog(config) as raw:
            raw.run(f"UPDATE {raw.events}_store SET value=? WHERE key='store_id'", ("0" * 32,))
            raw.delete_checkpoint_rows(1)

    def test_the_stores_own_checkpoints_under_a_new_store_id_are_tampering(
        self, carelog: CareLog, team: Team, config: Config, tmp_path: Path
    ) -> None:
        signed_rounds(carelog, team, 2)
        rewrite_after(config, 0)
        self.change_store_id(config)
        code, out = carelog_cli(config, "verify", cwd=tmp_path)  # on the signer's machine
        assert code == 1, out
        assert "store id changed" in out

    def test_a_second_store_from_the_same_working_directory_verifies_clean(
        self, carelog: CareLog, team: Team, config: Config, tmp_path: Path
    ) -> None:
        signed_rounds(carelog, team, 1)
        if config.is_postgres:
            pytest.skip("a second SQLite file beside the first is the case")
        other = config.with_(database_url=f"sqlite:///{tmp_path / 'second.db'}")
        second = CareLog(other)
        try:
            seed(second, team, patients=1, prefix="OTHER")
            assert second.integrity.checkpoint() is not None
        finally:
            second.close()
        for store in (config, other):
            code, out = carelog_cli(store, "verify", cwd=tmp_path)
            assert code == 0, out
            assert "another store" not in out
