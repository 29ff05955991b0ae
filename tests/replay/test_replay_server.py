"""`manage.py replay_upstream` as a real process, over loopback HTTP: endpoints, limits, faults, control API."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import base58
import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
GARY = "8ZCmwpW3MtC5UpNcZf7U4HMvRNTo71syU11BDiAFpump"
HIGGS = "DoVAVzViX8Bjy3r15nwikSaSbzE6dV4ovd28aWpJpump"
SOL = "So11111111111111111111111111111111111111112"
UNKNOWN = base58.b58encode(bytes(range(32))).decode()


@dataclass
class Server:
    proc: subprocess.Popen
    url: str

    @classmethod
    def start(cls, args: list[str], log: Path) -> Server:
        """Start the command on a free port (--port 0) and read the address it prints."""
        argv = [sys.executable, "manage.py", "replay_upstream", "--port", "0", *args]
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        proc = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=log.open("wb"), start_new_session=True
        )
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 30)
        line = proc.stdout.readline().decode() if ready else ""
        assert line.startswith("Replay upstream on http://"), f"{line!r}; stderr: {log.read_text()}"
        return cls(proc, line.split()[3])

    def stop(self) -> None:
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)

    def control(self, method: str, path: str, payload: dict | None = None) -> requests.Response:
        return requests.request(method, f"{self.url}/_control/{path}", json=payload, timeout=10)


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    log = tmp_path_factory.mktemp("replay") / "replay.log"
    started = Server.start(["--tokens", "120", "--seed", "7", "--no-motion", "--jupiter-rpm", "0"], log)
    yield started
    started.stop()


@pytest.fixture
def replay(server: Server) -> Server:
    assert server.control("POST", "reset").json() == {"ok": True, "motion": False}
    return server


def get(server: Server, path: str, timeout: float = 10, **params) -> requests.Response:
    return requests.get(f"{server.url}{path}", params=params or None, timeout=timeout)


def universe_token(server: Server, mint: str) -> dict:
    return next(t for t in server.control("GET", "universe").json()["tokens"] if t["mint"] == mint)


def test_serves_every_upstream_endpoint(replay):
    checks = {
        "/dexscreener/token-boosts/top/v1": list,
        "/dexscreener/token-boosts/latest/v1": list,
        "/dexscreener/token-profiles/latest/v1": list,
        f"/dexscreener/tokens/v1/solana/{GARY},{HIGGS}": list,
        f"/dexscreener/token-pairs/v1/solana/{GARY}": list,
        "/dexscreener/latest/dex/search?q=HIGGS": dict,
        "/jupiter/tokens/v2/toptrending/1h?limit=100": list,
        "/jupiter/tokens/v2/toptraded/24h?limit=100": list,
        "/jupiter/tokens/v2/toporganicscore/1h?limit=100": list,
        f"/jupiter/price/v3?ids={GARY},{SOL}": dict,
        "/geckoterminal/networks/solana/trending_pools?include=base_token,quote_token,dex&page=1": dict,
        "/geckoterminal/networks/solana/pools?sort=h24_volume_usd_desc&include=base_token,quote_token,dex&page=2": dict,
        "/geckoterminal/networks/solana/new_pools?include=base_token,quote_token,dex&page=1": dict,
        f"/geckoterminal/networks/solana/tokens/multi/{GARY},{HIGGS}?include=top_pools": dict,
        "/geckoterminal/networks/solana/pools/2uZuTQEjcXcR1ESwMdGTpqEwM5PCekEwrSNVRPc1EhS1/ohlcv/day?limit=8": dict,
    }
    for path, kind in checks.items():
        response = get(replay, path)
        assert response.status_code == 200, path
        assert response.headers["Content-Type"].startswith("application/json")
        assert isinstance(response.json(), kind) and response.json(), path
    jupiter = get(replay, f"/jupiter/price/v3?ids={GARY}")
    assert {"x-ratelimit-remaining", "x-ratelimit-reset"} <= {k.lower() for k in jupiter.headers}
    pairs = get(replay, f"/dexscreener/tokens/v1/solana/{GARY},{HIGGS}").json()
    assert [p["baseToken"]["symbol"] for p in pairs] == ["Gary", "HIGGS"]
    assert len(get(replay, "/geckoterminal/networks/solana/new_pools?page=1").json()["data"]) == 20


def test_over_limit_batches_and_unknown_mints_answer_like_upstream(replay):
    mints = [t["mint"] for t in replay.control("GET", "universe").json()["tokens"]][:51]
    response = get(replay, f"/dexscreener/tokens/v1/solana/{','.join(mints[:31])}")
    assert response.status_code == 400 and "error" in response.json()
    assert get(replay, f"/jupiter/price/v3?ids={','.join(mints)}").status_code == 400
    response = get(replay, f"/geckoterminal/networks/solana/tokens/multi/{','.join(mints[:31])}")
    assert response.status_code == 400 and response.json()["errors"][0]["status"] == "400"
    assert get(replay, "/geckoterminal/networks/solana/trending_pools?page=11").status_code == 400
    assert get(replay, "/jupiter/tokens/v2/toptrending/1h?limit=101").status_code == 400
    assert get(replay, f"/dexscreener/tokens/v1/solana/{UNKNOWN}").json() == []
    assert get(replay, f"/jupiter/price/v3?ids={UNKNOWN}").json() == {}
    assert get(replay, f"/geckoterminal/networks/solana/tokens/multi/{UNKNOWN}").json()["data"] == []
    assert get(replay, "/nowhere").status_code == 404


def test_serves_concurrent_clients_while_one_source_is_slow(replay):
    replay.control("POST", "faults", {"source": "geckoterminal", "mode": "slow", "delay": 1.5})
    paths = [f"/dexscreener/tokens/v1/solana/{GARY}", f"/jupiter/price/v3?ids={GARY}"] * 20
    with ThreadPoolExecutor(max_workers=24) as pool:
        slow = [pool.submit(get, replay, "/geckoterminal/networks/solana/new_pools") for _ in range(4)]
        started = time.monotonic()
        fast = list(pool.map(lambda path: get(replay, path).status_code, paths))
        fast_elapsed = time.monotonic() - started
        assert all(f.result().status_code == 200 for f in slow)
    assert fast == [200] * 40
    assert fast_elapsed < 1.4, "a slow source must not hold up the others"
    assert time.monotonic() - started >= 1.4


def test_429_fault_sends_retry_after_for_the_next_n_requests(replay):
    fault = {"source": "jupiter", "mode": "429", "retry_after": 7, "count": 2}
    assert replay.control("POST", "faults", fault).json()["faults"]["jupiter"]["count"] == 2
    for _ in range(2):
        response = get(replay, f"/jupiter/price/v3?ids={GARY}")
        assert response.status_code == 429
        assert response.headers["Retry-After"] == "7" and response.headers["x-ratelimit-remaining"] == "0"
    assert get(replay, f"/jupiter/price/v3?ids={GARY}").status_code == 200
    assert replay.control("GET", "faults").json() == {"faults": {}}


def test_500_lasts_until_changed(replay):
    replay.control("POST", "faults", {"source": "dexscreener", "mode": "500", "count": None})
    assert [get(replay, "/dexscreener/token-boosts/top/v1").status_code for _ in range(3)] == [500] * 3
    assert get(replay, f"/jupiter/price/v3?ids={GARY}").status_code == 200
    replay.control("POST", "faults", {"source": "dexscreener", "mode": "ok"})
    assert get(replay, "/dexscreener/token-boosts/top/v1").status_code == 200


def test_slow_timeout_malformed_and_empty_faults(replay):
    replay.control("POST", "faults", {"source": "geckoterminal", "mode": "slow", "delay": 0.6, "count": 1})
    started = time.monotonic()
    assert get(replay, "/geckoterminal/networks/solana/new_pools").json()["data"]
    assert time.monotonic() - started >= 0.6
    replay.control("POST", "faults", {"source": "jupiter", "mode": "timeout", "count": 1})
    since = time.time()
    with pytest.raises(requests.Timeout):
        get(replay, f"/jupiter/price/v3?ids={GARY}", timeout=0.5)
    assert get(replay, f"/jupiter/price/v3?ids={GARY}").status_code == 200
    assert len(replay.control("GET", f"stats?since={since}").json()["requests"]) == 2
    replay.control("POST", "faults", {"source": "dexscreener", "mode": "malformed", "count": 1})
    response = get(replay, f"/dexscreener/tokens/v1/solana/{GARY}")
    assert response.status_code == 200
    with pytest.raises(ValueError):
        response.json()
    replay.control("POST", "faults", {"source": "dexscreener", "mode": "empty"})
    response = get(replay, f"/dexscreener/tokens/v1/solana/{GARY}")
    assert response.status_code == 200 and response.content == b""
    assert replay.control("DELETE", "faults").json() == {"faults": {}}
    assert get(replay, f"/dexscreener/tokens/v1/solana/{GARY}").json()


def test_bad_control_requests_are_refused(replay):
    assert replay.control("POST", "faults", {"source": "binance", "mode": "429"}).status_code == 400
    assert replay.control("POST", "faults", {"source": "jupiter", "mode": "teapot"}).status_code == 400
    assert replay.control("POST", "move", {"mint": UNKNOWN, "price_factor": 2}).status_code == 404
    assert replay.control("POST", "move", {"mint": GARY, "price_factor": -1}).status_code == 400
    assert replay.control("POST", "motion", {"enabled": "yes"}).status_code == 400
    assert replay.control("GET", "move").status_code == 405
    assert replay.control("GET", "stats?since=yesterday").status_code == 400
    assert replay.control("GET", "nothing").status_code == 404


def test_move_changes_every_source_at_once(replay):
    before = universe_token(replay, GARY)
    ds_before = float(get(replay, f"/dexscreener/tokens/v1/solana/{GARY}").json()[0]["priceUsd"])
    jup_before = get(replay, f"/jupiter/price/v3?ids={GARY}").json()[GARY]["usdPrice"]
    gt_path = f"/geckoterminal/networks/solana/tokens/multi/{GARY}"
    gt_before = float(get(replay, gt_path).json()["data"][0]["attributes"]["price_usd"])
    moved = replay.control(
        "POST", "move", {"mint": GARY, "price_factor": 1.10, "volume_m5_factor": 5.0}
    ).json()
    after = universe_token(replay, GARY)
    assert moved["price_usd"] == pytest.approx(after["price_usd"])
    assert after["price_usd"] == pytest.approx(before["price_usd"] * 1.10)
    assert after["volume"]["m5"] == pytest.approx(before["volume"]["m5"] * 5)
    extra = after["volume"]["m5"] - before["volume"]["m5"]
    assert after["volume"]["h24"] == pytest.approx(before["volume"]["h24"] + extra)
    ds_after = float(get(replay, f"/dexscreener/tokens/v1/solana/{GARY}").json()[0]["priceUsd"])
    assert ds_after == pytest.approx(ds_before * 1.10, rel=2e-3)
    assert get(replay, f"/jupiter/price/v3?ids={GARY}").json()[GARY]["usdPrice"] == pytest.approx(
        jup_before * 1.1
    )
    gt_after = float(get(replay, gt_path).json()["data"][0]["attributes"]["price_usd"])
    assert gt_after == pytest.approx(gt_before * 1.10, rel=1e-6)


def test_motion_can_be_switched_on_and_off(replay):
    first = universe_token(replay, HIGGS)["price_usd"]
    time.sleep(1.1)
    assert universe_token(replay, HIGGS)["price_usd"] == first
    assert replay.control("POST", "motion", {"enabled": True}).json() == {"motion": True}
    time.sleep(2.1)
    moving = universe_token(replay, HIGGS)["price_usd"]
    assert moving != first
    replay.control("POST", "motion", {"enabled": False})
    frozen = universe_token(replay, HIGGS)["price_usd"]
    time.sleep(1.1)
    assert universe_token(replay, HIGGS)["price_usd"] == frozen


def test_stats_record_every_upstream_request(replay):
    since = time.time()
    get(replay, f"/dexscreener/tokens/v1/solana/{GARY}")
    get(replay, "/jupiter/tokens/v2/toptrending/1h?limit=500")
    get(replay, "/geckoterminal/networks/solana/new_pools?page=3")
    replay.control("GET", "universe")
    rows = replay.control("GET", f"stats?since={since}").json()["requests"]
    assert [(r["source"], r["path"], r["status"]) for r in rows] == [
        ("dexscreener", f"/tokens/v1/solana/{GARY}", 200),
        ("jupiter", "/tokens/v2/toptrending/1h", 400),
        ("geckoterminal", "/networks/solana/new_pools", 200),
    ]
    assert all(since <= r["t"] <= time.time() for r in rows) and rows[2]["query"] == "page=3"
    assert replay.control("GET", f"stats?since={time.time() + 60}").json() == {"requests": []}


def test_universe_and_reset(replay):
    body = replay.control("GET", "universe").json()
    assert len(body["tokens"]) == 120 and 140 < body["sol_price_usd"] < 160
    token = body["tokens"][0]
    assert {"mint", "name", "symbol", "price_usd", "pools", "sources"} <= set(token)
    assert {"address", "dex", "quote_mint", "liquidity_usd", "volume_h24", "sources"} <= set(
        token["pools"][0]
    )
    replay.control("POST", "move", {"mint": GARY, "price_factor": 3})
    replay.control("POST", "faults", {"source": "jupiter", "mode": "500"})
    get(replay, "/dexscreener/token-boosts/top/v1")
    assert replay.control("POST", "reset").status_code == 200
    assert universe_token(replay, GARY)["price_usd"] == pytest.approx(token["price_usd"])
    assert replay.control("GET", "faults").json() == {"faults": {}}
    assert replay.control("GET", "stats?since=0").json() == {"requests": []}


def test_command_flags_set_faults_and_jupiter_rate_limit(tmp_path):
    flags = [
        "--tokens",
        "10",
        "--jupiter-rpm",
        "3",
        "--fault",
        "geckoterminal=500",
        "--fault",
        "dexscreener=429:9",
    ]
    server = Server.start(flags, tmp_path / "replay.log")
    try:
        remaining = [
            get(server, f"/jupiter/price/v3?ids={GARY}").headers["x-ratelimit-remaining"] for _ in range(3)
        ]
        assert remaining == ["2", "1", "0"]
        refused = get(server, f"/jupiter/price/v3?ids={GARY}")
        assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 60
        assert get(server, "/geckoterminal/networks/solana/new_pools").status_code == 500
        response = get(server, "/dexscreener/token-boosts/top/v1")
        assert response.status_code == 429 and response.headers["Retry-After"] == "9"
        assert len(server.control("GET", "universe").json()["tokens"]) == 10
    finally:
        server.stop()
