"""A bad single sign-on setting stops CareLog at start-up, never at a user's first sign-in."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.bootstrap import CareLog
from services.config import Config
from web import create_app

ISSUER = "https://idp.hospital.test/realms/staff"


class TestStartUp:
    def test_a_bad_role_map_stops_the_app_at_start_up(self, tmp_path: Path) -> None:
        config = Config(
            database_url=f"sqlite:///{tmp_path}/c.db",
            checkpoint_dir=str(tmp_path / "cp"),
            run_projections=False,
            oidc_issuer=ISSUER,
            oidc_role_map="carelog-surgeons=surgeon",
        )
        instance = CareLog(config)
        try:
            with pytest.raises(SystemExit, match="surgeon"):
                create_app(carelog=instance)
        finally:
            instance.close()
