"""Candle benchmarks: the per-snapshot upsert, reads over HTTP with wrk, storage per token-day.

Usage: .venv/bin/python bench/bench_candles.py [--tokens 500] [--snapshots 40] [--postgres URL]
                                               [--read] [--duration 10] [--big sqlite|postgres]
                                               [--redis-db 1]

write   For SQLite (a file in WAL mode) and PostgreSQL (a database of its own at --postgres, when
        reachable): --snapshots snapshots of --tokens tokens, 10 s apart, each folded into every
        interval's open candle by tokens.history.store.upsert (one transaction, 6 rows per token);
        median and p99 per snapshot, and the 1m-only upsert (what build-on-read would write) to
        compare. Storage: rows per token-day per interval times the measured bytes per row.
--read  `python -m config.serve` (2 daphne processes, as `make run`), a snapshot of --tokens tokens
        in Redis DB --redis-db, 300 1m candles per token; wrk -t2 -c32 on
        /api/tokens/{random mint}/candles/?interval=1m&limit=300, once answered from the response
        cache (the snapshot's candles written) and once from the database on every request.
--big   Before --read: 7 days of 1-minute candles for --tokens tokens (~5 M rows) loaded into that
        database (COPY on PostgreSQL, executemany on SQLite), so the read runs against them.
Figures depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))
ROWS_PER_DAY = {"1m": 1440, "5m": 288, "15m": 96, "1h": 24, "4h": 6, "1d": 1}


def mints(n: int) -> list[str]:
    import base58

    rng = random.Random(7)
    return [base58.b58encode(rng.randbytes(32)).decode() for _ in range(n)]


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def write_bench(args: argparse.Namespace) -> dict:
    """In a child process (one DATABASE_URL per process): the write figures and bytes per row."""
    setup_django(args.url)
    from django.db import connection

    from tokens.history.candles import INTERVAL_NAMES, align
    from tokens.history.store import upsert

    ms = mints(args.tokens)
    rng = random.Random(1)
    prices = {m: rng.uniform(1e-6, 1.0) for m in ms}
    start = 1_796_169_600.0
    full, minute_only = [], []
    for i in range(args.snapshots):
        at = start + 10 * i
        rows = []
        for m in ms:
            prices[m] *= 1 + rng.uniform(-0.02, 0.02)
            rows += [(m, iv, align(at, iv), prices[m], 1e5, 1e6) for iv in INTERVAL_NAMES]
        began = time.perf_counter()
        upsert(rows)
        full.append((time.perf_counter() - began) * 1000)
        one = [r for r in rows if r[1] == "1m"]
        one = [(m, "1m", t + 86400 * 30, p, liq, mc) for m, _, t, p, liq, mc in one]  # rows of its own
        began = time.perf_counter()
        upsert(one)
        minute_only.append((time.perf_counter() - began) * 1000)
    # bytes per row: table and its indexes over the rows in it
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM tokens_pricecandle")
        count = cursor.fetchone()[0]
        if connection.vendor == "postgresql":
            cursor.execute("VACUUM FULL tokens_pricecandle")  # live rows only, as retention keeps them
            cursor.execute("SELECT pg_total_relation_size('tokens_pricecandle')")
            size = cursor.fetchone()[0]
        else:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            cursor.execute("VACUUM")
            cursor.execute(
                "SELECT sum(pgsize) FROM dbstat WHERE name LIKE '%pricecandle%' OR name = 'candle_interval_t'"
            )
            size = cursor.fetchone()[0]
    return {
        "vendor": connection.vendor,
        "upsert_ms": full,
        "minute_only_ms": minute_only,
        "bytes_per_row": size / max(count, 1),
        "rows": count,
    }


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def report_write(result: dict, tokens: int) -> None:
    up, one = result["upsert_ms"][1:], result["minute_only_ms"][1:]  # the first includes warm-up
    print(
        f"  {result['vendor']:<10} snapshot of {tokens} tokens -> 6 intervals ({tokens * 6} rows): "
        f"median {statistics.median(up):.1f} ms, p99 {pct(up, 0.99):.1f} ms   "
        f"| 1m only ({tokens} rows): median {statistics.median(one):.1f} ms, p99 {pct(one, 0.99):.1f} ms"
    )
    per_row = result["bytes_per_row"]
    cells = ", ".join(f"{iv} {n * per_row / 1024:.1f} KiB" for iv, n in ROWS_PER_DAY.items())
    print(
        f"  {result['vendor']:<10} storage: {per_row:.0f} bytes per candle (table + indexes); per token-day: {cells}"
    )


def postgres_db(base: str, name: str) -> str | None:
    """A fresh database `name` next to `base` (None when PostgreSQL does not answer)."""
    try:
        import psycopg

        with psycopg.connect(
            base.replace("postgres://", "postgresql://", 1), autocommit=True, connect_timeout=2
        ) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name}")
            conn.execute(f"CREATE DATABASE {name}")
    except Exception as exc:
        print(f"  postgresql skipped: {exc}".strip())
        return None
    return base.rsplit("/", 1)[0] + "/" + name


def drop_postgres_db(base: str, name: str) -> None:
    import psycopg

    with psycopg.connect(base.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def child(args: argparse.Namespace, url: str, mode: str) -> dict:
    argv = [sys.executable, __file__, "--child", mode, "--url", url, "--tokens", str(args.tokens),
            "--snapshots", str(args.snapshots), "--redis-db", str(args.redis_db)]  # fmt: skip
    out = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=False)
    if out.returncode:
        raise SystemExit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def load_big(args: argparse.Namespace) -> dict:
    """7 days of 1m candles for every token (child process)."""
    setup_django(args.url)
    from django.db import connection

    ms = mints(args.tokens)
    end = int(time.time()) // 60 * 60
    first = end - 7 * 86400
    began = time.perf_counter()
    total = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            raw = cursor.cursor
            with raw.copy(
                'COPY tokens_pricecandle (mint, "interval", t, open, high, low, close, source) FROM STDIN'
            ) as copy:
                for m in ms:
                    for t in range(first, end, 60):
                        copy.write_row((m, "1m", t, 1.0, 1.1, 0.9, 1.05, "merged"))
                        total += 1
            cursor.execute("ANALYZE tokens_pricecandle")
        else:
            sql = ('INSERT OR IGNORE INTO tokens_pricecandle (mint, "interval", t, open, high, low, close, source) '
                   "VALUES (?, '1m', ?, 1.0, 1.1, 0.9, 1.05, 'merged')")  # fmt: skip
            raw = cursor.connection
            for m in ms:
                raw.executemany(sql, ((m, t) for t in range(first, end, 60)))
                total += (end - first) // 60
            raw.commit()
    return {"rows": total, "seconds": time.perf_counter() - began}


def prepare_read(args: argparse.Namespace) -> dict:
    """300 1m candles per token and a snapshot naming them (child process; Redis DB --redis-db)."""
    os.environ["REDIS_URL"] = f"redis://127.0.0.1:6379/{args.redis_db}"
    setup_django(args.url)
    from django_redis import get_redis_connection

    from tests.factories import make_snapshot, make_token
    from tokens.history.candles import align
    from tokens.history.store import upsert
    from tokens.store import snapshots

    get_redis_connection("default").flushdb()
    ms = mints(args.tokens)
    now = time.time()
    for k in range(300):
        t = align(now - 60 * (300 - k), "1m")
        upsert([(m, "1m", t, 1.0 + k / 1000, None, None) for m in ms])
    tokens = [make_token(i, token_address=m) for i, m in enumerate(ms)]
    snapshot = make_snapshot(tokens, snapshot_id=snapshots.next_snapshot_id())
    snapshots.publish_snapshot(snapshot)
    return {"snapshot": snapshot.id}


def read_bench(args: argparse.Namespace, url: str) -> None:
    import requests

    from tests.processes import free_port

    prepared = child(args, url, "prepare")
    port = free_port()
    env = dict(os.environ, DATABASE_URL=url, DJANGO_SETTINGS_MODULE="config.settings", DJANGO_DEBUG="false",
               DJANGO_SECRET_KEY="bench-" + "x" * 60, DJANGO_ALLOWED_HOSTS="127.0.0.1", DJANGO_SECURE_SSL_REDIRECT="false",
               REDIS_URL=f"redis://127.0.0.1:6379/{args.redis_db}", API_THROTTLE_RATE="100000000/min",
               HOST="127.0.0.1", PORT=str(port), WEB_CONCURRENCY="2", CACHE_TTL_SECONDS="100000")  # fmt: skip
    web = subprocess.Popen(
        [sys.executable, "-m", "config.serve"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                if requests.get(f"{base}/api/health/", timeout=1).status_code in (200, 503):
                    break
            except requests.RequestException:
                time.sleep(0.2)
        ms = mints(args.tokens)
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
            paths = ",".join(f'"/api/tokens/{m}/candles/?interval=1m&limit=300"' for m in ms)
            lua.write(
                "paths = {"
                + paths
                + "}\nrequest = function()\n  return wrk.format('GET', paths[math.random(#paths)])\nend\n"
            )
        import redis

        r = redis.Redis(db=args.redis_db)
        for label, written in (("from the database", -1), ("response cache", prepared["snapshot"])):
            r.set("mds:1:candles:written", written)
            if written > 0:  # warm every web process's response cache first (new connections land anywhere)
                for m in ms:
                    hits = tries = 0
                    while hits < 3 and tries < 12:
                        got = requests.get(
                            f"{base}/api/tokens/{m}/candles/?interval=1m&limit=300", timeout=10
                        )
                        hits, tries = hits + (got.headers.get("x-response-cache") == "hit"), tries + 1
            probe = requests.get(f"{base}/api/tokens/{ms[0]}/candles/?interval=1m&limit=300", timeout=10)
            cache_state = probe.headers.get("x-response-cache", "none")
            out = subprocess.run(["wrk", "-t2", "-c32", f"-d{args.duration}s", "--latency", "-s", lua.name, base],
                                 capture_output=True, text=True, check=False)  # fmt: skip
            rps = next(
                (line.split()[1] for line in out.stdout.splitlines() if line.startswith("Requests/sec")), "?"
            )
            p50 = next(
                (line.split()[1] for line in out.stdout.splitlines() if line.strip().startswith("50%")), "?"
            )
            p99 = next(
                (line.split()[1] for line in out.stdout.splitlines() if line.strip().startswith("99%")), "?"
            )
            errors = [line.strip() for line in out.stdout.splitlines() if "Non-2xx" in line]
            print(
                f"  read {label:<18} {rps} req/s, p50 {p50}, p99 {p99} {' '.join(errors)}"
                f" (x-response-cache: {cache_state}, {len(probe.content)} bytes)"
            )
        os.unlink(lua.name)
    finally:
        os.killpg(web.pid, signal.SIGTERM)
        try:
            web.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(web.pid, signal.SIGKILL)
            web.wait(5)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tokens", type=int, default=500)
    parser.add_argument("--snapshots", type=int, default=40)
    parser.add_argument(
        "--postgres", default=os.environ.get("TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")
    )
    parser.add_argument("--read", action="store_true")
    parser.add_argument("--big", choices=["sqlite", "postgres"])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--redis-db", type=int, default=12)
    parser.add_argument("--child", choices=["write", "prepare", "big"])
    parser.add_argument("--url")
    args = parser.parse_args()
    if args.child:
        result = {"write": write_bench, "prepare": prepare_read, "big": load_big}[args.child](args)
        print(json.dumps(result))
        return 0
    tmp = Path(tempfile.mkdtemp(prefix="bench-candles-"))
    name = f"bench_candles_{os.getpid()}"
    pg = postgres_db(args.postgres, name)
    urls = {"sqlite": f"sqlite:///{tmp / 'candles.sqlite3'}"}
    if pg:
        urls["postgres"] = pg
    try:
        print(f"write: {args.snapshots} snapshots of {args.tokens} tokens")
        for url in urls.values():
            report_write(child(args, url, "write"), args.tokens)
        if args.read or args.big:
            for label in urls:
                if args.big and label != args.big:
                    continue
                fresh = (
                    f"sqlite:///{tmp / 'read.sqlite3'}"
                    if label == "sqlite"
                    else postgres_db(args.postgres, name + "_r")
                )
                if args.big:
                    loaded = child(args, fresh, "big")
                    print(f"  {label}: loaded {loaded['rows']:,} 1m candles in {loaded['seconds']:.0f} s")
                print(
                    f"read ({label}{', 7 days of 1m candles loaded' if args.big else ''}): wrk -t2 -c32 -d{args.duration}s"
                )
                read_bench(args, fresh)
                if label == "postgres":
                    drop_postgres_db(args.postgres, name + "_r")
    finally:
        if pg:
            drop_postgres_db(args.postgres, name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
