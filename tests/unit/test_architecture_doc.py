"""docs/architecture.md stays true: it names every package a newcomer must find, and every
path, class and constant it names in backticks (and every path its picture shows) exists.

Modules move (services/ was regrouped by data flow, the SQL layer is moving): when one
does, this test names the sentence of the page to change.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "architecture.md"
PICTURE = ROOT / "docs" / "architecture.svg"
SOURCE_PACKAGES = ("domain", "projections", "services", "web")

PACKAGE_LEVEL: frozenset[str] = frozenset()
"""Paths the page may name that are not files or folders of the repository (none yet:
add one here only with a reason, e.g. a folder created at run time)."""

NOT_CODE = frozenset({"ETag"})
"""Capitalised words in backticks that are not names in our code (an HTTP header)."""

_QUOTED = re.compile(r"`([^`\n]+)`")
_CLASS = re.compile(r"^([A-Z][A-Za-z0-9]*[a-z][A-Za-z0-9]*)(?:\.([A-Za-z_]\w*))?$")
_CONSTANT = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$")
_WORD_EDGES = ",;:()."


def page() -> str:
    return PAGE.read_text()


def quoted() -> list[str]:
    return _QUOTED.findall(page())


def looks_like_path(text: str) -> bool:
    """A repository path: has a slash, no spaces, and is not a URL path (``/api/v1``)."""
    return "/" in text and " " not in text and not text.startswith(("/", "http"))


def exists(path: str, *, under: tuple[Path, ...] = (ROOT,)) -> bool:
    """The file or folder is there (a module may be named without its ``.py``)."""
    if path in PACKAGE_LEVEL:
        return True
    return any((base / path).exists() or (base / f"{path}.py").exists() for base in under)


def packages(folder: Path) -> list[str]:
    return sorted(p.parent.name for p in folder.glob("*/__init__.py"))


def sources() -> dict[Path, str]:
    return {
        path: path.read_text()
        for package in SOURCE_PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
    }


def picture_words() -> list[str]:
    words = []
    for element in ET.parse(PICTURE).getroot().iter():
        if element.tag.rsplit("}", 1)[-1] == "text" and element.text:
            words += [w.strip(_WORD_EDGES) for w in element.text.split()]
    return words


class TestThePageNamesEveryPackage:
    @pytest.mark.parametrize("name", packages(ROOT))
    def test_every_top_level_package_is_named(self, name: str) -> None:
        assert f"{name}/" in quoted(), f"docs/architecture.md: say what `{name}/` holds"

    @pytest.mark.parametrize("name", packages(ROOT / "services"))
    def test_every_sub_package_of_services_is_named(self, name: str) -> None:
        assert f"services/{name}/" in quoted(), (
            f"docs/architecture.md: a row for `services/{name}/` (what it holds, reads, writes)"
        )

    @pytest.mark.parametrize("name", packages(ROOT / "services"))
    def test_every_sub_package_of_services_is_in_the_picture(self, name: str) -> None:
        assert name in {w.rstrip("/").rsplit("/", 1)[-1] for w in picture_words()}


class TestWhatThePageNamesExists:
    def test_every_path_in_backticks_exists(self) -> None:
        missing = [p for p in quoted() if looks_like_path(p) and not exists(p)]
        assert missing == [], f"docs/architecture.md names paths that are gone: {missing}"

    def test_every_class_in_backticks_is_defined(self) -> None:
        code = sources()
        missing = []
        for text in quoted():
            match = _CLASS.match(text)
            if match is None or text in NOT_CODE:
                continue
            name, attribute = match.groups()
            defining = [t for t in code.values() if re.search(rf"^\s*class {name}\b", t, re.M)]
            if not defining or (attribute and not any(attribute in t for t in defining)):
                missing.append(text)
        assert missing == [], f"docs/architecture.md names classes that are gone: {missing}"

    def test_every_constant_in_backticks_is_defined(self) -> None:
        code = "\n".join(sources().values())
        missing = [
            name
            for name in quoted()
            if _CONSTANT.match(name)
            and not re.search(rf"^\s*{name}\s*[:=]", code, re.M)  # a constant
            and f'"{name}"' not in code  # a setting (services/config.py reads it by name)
        ]
        assert missing == [], f"docs/architecture.md names constants that are gone: {missing}"

    def test_the_picture_is_embedded_and_every_path_it_shows_exists(self) -> None:
        assert f"]({PICTURE.name})" in page()
        shown = [w for w in picture_words() if looks_like_path(w)]
        missing = [w for w in shown if not exists(w, under=(ROOT, ROOT / "services"))]
        assert shown, "the picture names no paths: has its text moved out of <text>?"
        assert missing == [], f"docs/architecture.svg shows paths that are gone: {missing}"

    def test_the_readme_links_the_page(self) -> None:
        assert "(docs/architecture.md)" in (ROOT / "README.md").read_text()


class TestTheCheckItself:
    def test_a_url_path_and_a_phrase_are_not_paths(self) -> None:
        assert not looks_like_path("/api/v1/feed/stream")
        assert not looks_like_path("web → services")
        assert looks_like_path("services/feeds/relay.py")

    def test_a_module_may_be_named_without_its_extension(self) -> None:
        assert exists("projections/runner")
        assert not exists("projections/no_such_module")
