"""The layers hold: import-linter's contracts (pyproject.toml) pass, they catch a broken
layer, and only the composition root (services/bootstrap.py) opens a store.

``make lint`` runs the same contracts; this test is what makes CI (``make test``) run them.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("domain", "projections", "services", "web")
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
COMPOSITION_ROOT = ROOT / "services" / "bootstrap.py"
SQL_LAYER = ROOT / "projections" / "sql"
OPENS_A_STORE = {
    "projections.sql.connection": {"connect"},
    "projections.sql.sqlite": {"SQLiteDatabase"},
    "projections.sql.postgres": {"PostgresDatabase"},
    "services.writing.application": {"CareLogApplication"},
}
"""Calls that open a store: the SQL layer's ``connect`` and its two databases, and the
event-sourced application (which opens the event store)."""


def lint_imports(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def sources() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


class TestLayerContracts:
    def test_every_contract_in_pyproject_is_kept(self) -> None:
        done = lint_imports(ROOT)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "0 broken" in done.stdout

    def test_an_import_against_the_layers_breaks_a_contract(self, tmp_path: Path) -> None:
        """The same contracts, run on a small project that breaks each: all are reported."""
        config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
        files = {
            "domain/__init__.py": "import sqlite3\nfrom services import helper\n",
            "projections/__init__.py": "from web import pages\n",
            "projections/view.py": "import sqlite3\n",
            "projections/sql/__init__.py": "",
            "projections/sql/sqlite.py": "import sqlite3\n",
            "projections/sql/postgres.py": "import psycopg\nimport psycopg_pool\n",
            "projections/sql/transient.py": "import eventsourcing\n",
            "services/__init__.py": "",
            "services/access/__init__.py": "",
            "services/cli/__init__.py": "",
            "services/interop/__init__.py": "",
            "services/reading/__init__.py": "",
            "services/writing/__init__.py": "import psycopg\n",
            "services/storage/__init__.py": "",
            "services/storage/postgres_store.py": "",
            "services/helper.py": "import web.pages\n",
            "web/__init__.py": "",
            "web/pages.py": "import psycopg\n",
            "web/store.py": "from projections.sql.connection import connect\n",
        }
        for name, text in files.items():
            (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / name).write_text(text)
        (tmp_path / ".importlinter").write_text(_ini(config))

        done = lint_imports(tmp_path)

        assert done.returncode != 0
        broken = {c["name"] for c in config["contracts"]}
        assert f"Contracts: 0 kept, {len(broken)} broken." in done.stdout, done.stdout
        assert "domain is not allowed to import sqlite3" in done.stdout
        assert "services.helper -> web.pages" in done.stdout
        assert "projections.view -> sqlite3" in done.stdout
        assert "services.writing -> psycopg" in done.stdout


class TestCompositionRoot:
    def test_only_the_composition_root_opens_a_store(self) -> None:
        opened = [
            f"{path.relative_to(ROOT)}:{line} {name}"
            for path in sources()
            if path != COMPOSITION_ROOT and SQL_LAYER not in path.parents
            for line, name in _store_openings(ast.parse(path.read_text()))
        ]
        assert opened == [], "open stores in services/bootstrap.py only:\n" + "\n".join(opened)

    def test_the_check_finds_a_store_opened_elsewhere(self) -> None:
        tree = ast.parse(
            "from projections.sql.connection import connect as open_db\n"
            "from projections.sql import sqlite\n"
            "import services.writing.application as application\n"
            "def make(url):\n"
            "    self.connect()\n"  # a Kafka producer's connect is not a store
            "    return open_db(url), sqlite.SQLiteDatabase(url),"
            " application.CareLogApplication()\n"
        )
        assert [name for _, name in _store_openings(tree)] == [
            "open_db",
            "sqlite.SQLiteDatabase",
            "application.CareLogApplication",
        ]

    def test_the_domain_uses_only_the_domain_part_of_eventsourcing(self) -> None:
        """(import-linter forbids whole external packages only: eventsourcing's stores are
        checked here.)"""
        imported = {
            f"{path.relative_to(ROOT)}: {name}"
            for path in sorted((ROOT / "domain").rglob("*.py"))
            for node in ast.walk(ast.parse(path.read_text()))
            for name in _imported(node)
            if name.split(".")[0] == "eventsourcing"
            and name not in ("eventsourcing.domain", "eventsourcing.utils")
        }
        assert imported == set()

    def test_the_composition_root_is_where_stores_are_opened(self) -> None:
        opened = {name for _, name in _store_openings(ast.parse(COMPOSITION_ROOT.read_text()))}
        assert opened == {"connect", "CareLogApplication"}


def _store_openings(tree: ast.Module) -> list[tuple[int, str]]:
    """(line, call) for each call in ``tree`` that opens a store (``OPENS_A_STORE``),
    however the name was imported."""
    functions: dict[str, str] = {}  # local name -> what it opens
    modules: dict[str, str] = {}  # local name -> module
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                local = alias.asname or alias.name
                if alias.name in OPENS_A_STORE.get(node.module, ()):
                    functions[local] = alias.name
                elif f"{node.module}.{alias.name}" in OPENS_A_STORE:
                    modules[local] = f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in OPENS_A_STORE:
                    modules[alias.asname or alias.name] = alias.name
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        if isinstance(node.func, ast.Name) and node.func.id in functions:
            found.append((node.lineno, node.func.id))
        elif isinstance(node.func, ast.Attribute):
            owner = ast.unparse(node.func.value)
            if node.func.attr in OPENS_A_STORE.get(modules.get(owner, ""), ()):
                found.append((node.lineno, f"{owner}.{node.func.attr}"))
    return found


def _imported(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        return [node.module]
    return []


def _ini(config: dict[str, object]) -> str:
    """pyproject's [tool.importlinter] as an .importlinter file (the INI form)."""
    lines = ["[importlinter]", "root_packages =", *(f"    {p}" for p in PACKAGES)]
    lines.append(f"include_external_packages = {config['include_external_packages']}")
    contracts = config["contracts"]
    assert isinstance(contracts, list)
    for number, contract in enumerate(contracts):
        lines.append(f"[importlinter:contract:{number}]")
        for key, value in contract.items():
            if isinstance(value, list):
                lines += [f"{key} =", *(f"    {v}" for v in value)]
            else:
                lines.append(f"{key} = {value}")
    return textwrap.dedent("\n".join(lines)) + "\n"
