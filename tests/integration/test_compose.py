"""docker-compose.yml stays true to the code: Docker does not run here, so this test reads
the file and checks that every CareLog service runs a command the CLI has and sets only
variables the configuration reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from services.cli.main import build_parser
from services.config import Config
from services.settings import SETTINGS

REPO = Path(__file__).parents[2]


class RecordingEnv(dict[str, str]):
    """An environment that remembers which names were asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        self.asked.add(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> str:
        self.asked.add(key)
        return super().__getitem__(key)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((REPO / "docker-compose.yml").read_text("utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def carelog_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: spec for name, spec in compose["services"].items() if "build" in spec}


def parses(argv: list[str]) -> bool:
    try:
        build_parser().parse_args(argv)
    except SystemExit:
        return False
    return True


class TestCompose:
    def test_it_runs_the_api_the_view_workers_the_relay_postgres_and_kafka(
        self, compose: dict[str, Any]
    ) -> None:
        services = compose["services"]
        assert {"postgres", "kafka", "api", "projections", "relay"} <= set(services)
        assert services["kafka"]["image"].startswith("apache/kafka:")
        assert services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
        commands = {name: spec["command"] for name, spec in carelog_services(compose).items()}
        assert commands["api"][:2] == ["carelog", "serve"]
        assert "--workers" in commands["api"]
        assert commands["projections"] == ["carelog", "projections", "run"]
        assert commands["relay"] == ["carelog", "relay"]

    def test_every_carelog_command_exists_in_the_cli(self, compose: dict[str, Any]) -> None:
        for name, spec in carelog_services(compose).items():
            argvs = [spec["command"]]
            check = spec.get("healthcheck", {}).get("test", [])
            if check[1:2] == ["carelog"]:
                argvs.append(check[1:])
            for argv in argvs:
                assert argv[0] == "carelog", name
                assert parses(argv[1:]), f"{name}: `{' '.join(argv)}` is not a CareLog command"

    def test_every_variable_set_is_one_the_configuration_reads(
        self, compose: dict[str, Any]
    ) -> None:
        env = RecordingEnv()
        Config.from_env(env)
        for name, spec in carelog_services(compose).items():
            unread = set(spec["environment"]) - env.asked
            assert not unread, f"{name} sets variables CareLog never reads: {unread}"
            undocumented = set(spec["environment"]) - set(SETTINGS)
            assert not undocumented, f"{name}: {undocumented} missing from SETTINGS"

    def test_services_start_after_what_they_need_is_healthy(self, compose: dict[str, Any]) -> None:
        services = compose["services"]
        for name, spec in services.items():
            for needed, how in spec.get("depends_on", {}).items():
                assert needed in services, f"{name} depends on an unknown {needed}"
                if how.get("condition") == "service_healthy":
                    assert "healthcheck" in services[needed], f"{needed} has no healthcheck"
        assert set(services["relay"]["depends_on"]) == {"postgres", "kafka"}
        assert all(spec.get("healthcheck") for spec in services.values())

    def test_encryption_at_rest_is_required_for_every_carelog_service(
        self, compose: dict[str, Any]
    ) -> None:
        for name, spec in carelog_services(compose).items():
            key = str(spec["environment"].get("CARELOG_CIPHER_KEY", ""))
            assert key.startswith("${CARELOG_CIPHER_KEY:?"), f"{name} may run unencrypted"
        assert parses(["keys", "generate"])

    def test_the_readme_says_how_to_set_every_required_variable(
        self, compose: dict[str, Any]
    ) -> None:
        readme = (REPO / "README.md").read_text("utf-8")
        scaling_out = readme.split("## Scaling out", 1)[1].split("\n## ", 1)[0]
        required = {
            value[2:].split(":?", 1)[0]
            for spec in carelog_services(compose).values()
            for value in map(str, spec["environment"].values())
            if value.startswith("${") and ":?" in value
        }
        assert {"CARELOG_SECRET_KEY", "CARELOG_CIPHER_KEY"} <= required
        for name in required:
            assert f"{name}=$(" in scaling_out, f"README does not say how to set {name}"
        assert "carelog keys generate" in scaling_out

    def test_one_relay_runs_per_store(self, compose: dict[str, Any]) -> None:
        assert compose["services"]["relay"]["deploy"]["replicas"] == 1

    def test_the_image_is_built_from_the_dockerfile_here(self, compose: dict[str, Any]) -> None:
        dockerfile = (REPO / "Dockerfile").read_text("utf-8")
        assert all(spec["build"] == "." for spec in carelog_services(compose).values())
        assert "pip install ." in dockerfile
        for package in ("domain", "services", "projections", "web"):
            assert f"COPY {package} " in dockerfile
