"""Production settings: the development key stops every process with a clear message; with the
documented variables `check --deploy` is clean, collectstatic builds hashed files and daphne serves
them through whitenoise behind a TLS-terminating proxy."""

from __future__ import annotations

import re
import secrets
import subprocess

import pytest
import requests

from tests.processes import BIN, ROOT, base_env, free_port, start_daphne, wait_for

pytestmark = pytest.mark.slow


def production_env(**extra: str) -> dict[str, str]:
    env = base_env(
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_DEBUG="false",
        REDIS_URL=f"redis://127.0.0.1:{free_port()}/0",  # nothing listens: these checks need no Redis
        **extra,
    )
    env.pop("DJANGO_SECRET_KEY", None)
    env.update(extra)
    return env


DOCUMENTED = {
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1,example.com",
    "DJANGO_CSRF_TRUSTED_ORIGINS": "https://example.com",
}

COMMANDS = {
    "manage.py": [str(BIN / "python"), "manage.py", "check"],
    "daphne": [str(BIN / "daphne"), "-p", "0", "config.asgi:application"],
    "celery worker": [str(BIN / "celery"), "-A", "config", "worker", "--concurrency", "1"],
    "celery beat": [str(BIN / "celery"), "-A", "config", "beat", "--schedule", "/dev/null"],
}


@pytest.mark.parametrize("name", COMMANDS)
def test_development_key_in_production_stops_the_process_with_a_clear_message(name):
    done = subprocess.run(
        COMMANDS[name], cwd=ROOT, env=production_env(), capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0
    last_line = (done.stderr or done.stdout).strip().splitlines()[-1]
    assert "ImproperlyConfigured: Refusing to start" in last_line and "DJANGO_SECRET_KEY" in last_line


def test_check_deploy_is_clean_with_the_documented_variables():
    done = subprocess.run(
        [str(BIN / "python"), "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=production_env(**DOCUMENTED), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


def test_collectstatic_and_whitenoise_serve_hashed_files_behind_a_proxy(tmp_path):
    env = production_env(**DOCUMENTED, DJANGO_STATIC_ROOT=str(tmp_path / "static"))
    subprocess.run(
        [str(BIN / "python"), "manage.py", "collectstatic", "--no-input", "-v", "0"],
        cwd=ROOT, env=env, check=True, timeout=120,
    )  # fmt: skip
    wanted = ("DJANGO_SETTINGS_MODULE", "DJANGO_DEBUG", "REDIS_URL", "DJANGO_STATIC_ROOT", *DOCUMENTED)
    server = start_daphne(tmp_path, **{name: env[name] for name in wanted})
    try:
        https = {"X-Forwarded-Proto": "https"}
        plain = requests.get(server.url + "/", allow_redirects=False, timeout=10)
        assert plain.status_code == 301 and plain.headers["Location"].startswith("https://")
        page = server.get("/", headers=https)
        assert page.status_code == 200
        assert "Strict-Transport-Security" in page.headers
        script = re.search(r'src="(/static/realtime/screener\.[0-9a-f]{12}\.js)"', page.text)
        assert script, "the page names the hashed script"
        js = server.get(script.group(1), headers=https)
        assert js.status_code == 200 and "immutable" in js.headers["Cache-Control"]
        assert re.search(r'from "\./model\.[0-9a-f]{12}\.js"', js.text), "module imports are hashed too"
        health = server.get("/api/health/")  # exempt from the HTTPS redirect (load balancers)
        assert health.status_code == 503 and "Redis" in " ".join(health.json()["reasons"])
        assert server.get("/metrics").status_code == 200  # loopback is in the default allow-list
        wait_for(lambda: server.proc.alive(), 1)
    finally:
        server.proc.stop()


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("REFRESH_LOCK_MARGIN_SECONDS", "0", "REFRESH_LOCK_MARGIN_SECONDS must be at least 1"),
        ("CHANNEL_LAYER", "kafka", 'CHANNEL_LAYER must be "redis" or "pubsub"'),
        ("LOG_FORMAT", "xml", 'LOG_FORMAT must be "text" or "json"'),
    ],
)
def test_a_bad_setting_stops_the_process_naming_it(name, value, says):
    env = production_env(**DOCUMENTED, **{name: value})
    done = subprocess.run(
        COMMANDS["manage.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0
    assert says in done.stderr.strip().splitlines()[-1]
