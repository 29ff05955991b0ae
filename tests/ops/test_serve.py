"""config/serve.py: WEB_SERVER picks uvicorn or daphne; anything else stops the start with a clear error."""

from __future__ import annotations

import subprocess

import pytest

from config import serve
from tests.processes import BIN, ROOT, base_env, free_port


@pytest.mark.pure
@pytest.mark.parametrize(("value", "expected"), [(None, "uvicorn"), ("", "uvicorn"), ("Daphne ", "daphne")])
def test_web_server_setting(value, expected):
    assert serve.web_server(value) == expected


@pytest.mark.pure
def test_an_unknown_web_server_is_refused_by_name():
    with pytest.raises(SystemExit, match=r"WEB_SERVER must be one of uvicorn, daphne, not 'gunicorn'"):
        serve.web_server("gunicorn")


@pytest.mark.pure
def test_uvicorn_children_open_the_inherited_socket_themselves():
    """Not `uvicorn --fd`: it opens the descriptor as a Unix socket, so TCP_NODELAY is never set and
    every response waits for Nagle's algorithm and a delayed ACK (40 ms)."""
    argv = serve.argv_for("uvicorn", 7, None)
    assert argv[1:5] == ["-m", "config.serve", "--uvicorn-fd", "7"] and "--fd" not in argv
    assert serve.argv_for("daphne", 7, None)[1:3] == ["--fd", "7"]


def test_the_launcher_stops_at_once_on_an_unknown_web_server():
    env = base_env(WEB_SERVER="hypercorn", PORT=str(free_port()))
    done = subprocess.run(
        [str(BIN / "python"), "-m", "config.serve"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "WEB_SERVER must be one of uvicorn, daphne, not 'hypercorn'" in done.stderr
