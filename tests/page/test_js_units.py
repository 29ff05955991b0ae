"""The page's pure JavaScript modules (format, model, rowset, stream) under node's built-in test runner."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.needs import missing

JS_TESTS = sorted((Path(__file__).parent / "js").glob("*.test.mjs"))
ROOT = Path(__file__).resolve().parents[2]


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        missing("node (the page's JavaScript unit tests need node >= 20)", "install Node.js 20 or newer")
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout
    major = int(re.match(r"v(\d+)", version).group(1))  # type: ignore[union-attr]
    if major < 20:
        missing(f"node >= 20 (found {version.strip()})", "install Node.js 20 or newer")
    return node


@pytest.mark.pure
@pytest.mark.parametrize("path", JS_TESTS, ids=lambda p: p.name)
def test_javascript_module(path: Path) -> None:
    result = subprocess.run(
        [_node(), "--test", str(path)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
