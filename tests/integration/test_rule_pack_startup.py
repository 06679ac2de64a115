"""A malformed clinical rule pack stops CareLog at start-up, naming the rule and the
field: it must never surface first as a 500 on a clinician's write."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

from domain.safety import RulePackError
from services.config import Config
from web import create_app


def broken_pack(folder: Path) -> Path:
    pack = json.loads(resources.files("domain.safety").joinpath("rulepack.json").read_text())
    section = next(k for k, v in pack.items() if isinstance(v, list) and v and "id" in v[0])
    rule = pack[section][0]
    rule.pop("source", None)
    path = folder / "broken-pack.json"
    path.write_text(json.dumps(pack))
    return path


def test_the_app_refuses_to_start_with_a_malformed_pack(config: Config, tmp_path: Path) -> None:
    with pytest.raises(RulePackError, match="source"):
        create_app(config.with_(rule_pack=str(broken_pack(tmp_path))))


def test_the_shipped_pack_and_a_valid_copy_start(config: Config, tmp_path: Path) -> None:
    copy = tmp_path / "copy.json"
    copy.write_text(resources.files("domain.safety").joinpath("rulepack.json").read_text())
    assert create_app(config.with_(rule_pack=str(copy))).extensions["carelog"].pack


@pytest.mark.served
def test_carelog_serve_exits_with_the_rule_named(store: str, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "CARELOG_DATABASE_URL": store,
        "CARELOG_RULE_PACK": str(broken_pack(tmp_path)),
        "CARELOG_CHECKPOINT_DIR": str(tmp_path / "checkpoints"),
    }
    done = subprocess.run(
        [str(Path(sys.executable).with_name("carelog")), "serve", "--port", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "the clinical rule pack is malformed" in done.stderr
    assert "source" in done.stderr
    assert "Traceback" not in done.stderr
