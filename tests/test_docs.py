"""docs/architecture.md stays true to the tree: every package it should describe is there, and no more."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.pure

ROOT = Path(__file__).resolve().parents[1]
ARCHITECTURE = (ROOT / "docs" / "architecture.md").read_text()
SKIP = {"migrations", "management", "commands", "templates", "static", "__pycache__"}


def packages() -> set[str]:
    found = set()
    for app in ("tokens", "realtime"):
        for init in (ROOT / app).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT)
            if rel.parts[1:] and not SKIP & set(rel.parts):
                found.add(rel.as_posix() + "/")
    return found


def test_every_package_has_its_line():
    missing = {p for p in packages() if f"`{p}`" not in ARCHITECTURE and f"{p[:-1]}/" not in ARCHITECTURE}
    assert not missing, f"docs/architecture.md does not describe {sorted(missing)}"


def test_every_package_it_names_exists():
    named = set(re.findall(r"`((?:tokens|realtime)/[a-z_/]+/)`", ARCHITECTURE))
    assert named, "the package table names packages as `tokens/<name>/`"
    assert named <= packages() | {"tokens/", "realtime/"}, sorted(named - packages())


def test_every_module_it_names_exists():
    for path in re.findall(r"`((?:tokens|realtime|config)/[a-z_/]+\.py)`", ARCHITECTURE):
        assert (ROOT / path).is_file(), path
