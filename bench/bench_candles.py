"""Candle benchmarks: the per-snapshot upsert, reads over HTTP with wrk, storage per token-day.

Usage: .venv/bin/python bench/bench_candles.py [--tokens 500] [--snapshots 200] [--postgres URL]
                                               [--read] [--no-write] [--duration 10]
                                               [--big sqlite|postgres] [--web-server uvicorn|daphne]
                                               [--redis-db 12]

write   For SQLite (a file in WAL mode) and PostgreSQL (a database of its own at --postgres, when
        reachable): --snapshots snapshots of --tokens tokens, 10 s apart, each folded into every
        interval's open candle by tokens.history.store.upsert (one transaction, 6 rows per token);
        median and p99 per snapshot, and the 1m-only upsert (what build-on-read would write) to
        compare. Storage: rows per token-day per interval times the measured bytes per row.
--read  The whole stack as `make run` starts it (bench/stack.py: 2 web processes, worker, beat
        refreshing every 10 s against the replay upstream of --tokens tokens), on SQLite and then on
        PostgreSQL; 300 1m candles seeded for every token it serves; then wrk -t2 -c32 on
        /api/tokens/{random mint}/candles/?interval=1m&limit=300 (identical reads: the response
        cache answers all but the first of each snapshot) and on the same with a distinct `before`
        per request (every read goes to the database), with the response-cache outcomes counted.
--big   --read on that database only, with 7 days of 1-minute candles per token seeded (~5 M
        rows for 500 tokens), to show reads do not slow down as history grows.
Figures depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import bench_stack  # noqa: E402
from bench.stack import running_stack, sum_samples  # noqa: E402

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
    from tokens.history import store  # noqa: F401  (imported before the fork in the worker)
    from tokens.infra.gc_tuning import tune_for_serving

    tune_for_serving()  # as config.celery does in every worker pool process


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


def child(args: argparse.Namespace, url: str, mode: str, extra: list[str] | None = None) -> dict:
    argv = [sys.executable, __file__, "--child", mode, "--url", url, "--tokens", str(args.tokens),
            "--snapshots", str(args.snapshots), "--redis-db", str(args.redis_db), *(extra or [])]  # fmt: skip
    out = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=False)
    if out.returncode:
        raise SystemExit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def seed(args: argparse.Namespace) -> dict:
    """Candles for the mints in --mints (child process, the stack's DATABASE_URL): the 300 minutes
    before now, or with --big 7 days of 1m candles (~10,000 per token). Rows the stack already
    holds (observed or backfilled) are kept; one transaction per token, so the worker's own candle
    writes wait at most that long for SQLite's write lock."""
    setup_django(args.url)
    from django.db import connection, transaction

    ms = json.loads(Path(args.mints).read_text())
    end = int(time.time()) // 60 * 60
    first = end - (7 * 86400 if args.big else 300 * 60)
    columns = '(mint, "interval", t, open, high, low, close, source)'
    began = time.perf_counter()
    total = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"CREATE TEMP TABLE seed {columns[:0]}AS SELECT mint, \"interval\", t, open, high, low, "
                           "close, source FROM tokens_pricecandle WITH NO DATA")  # fmt: skip
            for m in ms:
                with transaction.atomic():
                    with cursor.cursor.copy(f"COPY seed {columns} FROM STDIN") as copy:
                        for t in range(first, end, 60):
                            copy.write_row((m, "1m", t, 1.0, 1.1, 0.9, 1.05, "merged"))
                    cursor.execute(f"INSERT INTO tokens_pricecandle {columns} SELECT * FROM seed "
                                   "ON CONFLICT DO NOTHING")  # fmt: skip
                    total += cursor.rowcount
                    cursor.execute("TRUNCATE seed")
            cursor.execute("ANALYZE tokens_pricecandle")
        else:
            sql = (f"INSERT OR IGNORE INTO tokens_pricecandle {columns} "
                   "VALUES (?, '1m', ?, 1.0, 1.1, 0.9, 1.05, 'merged')")  # fmt: skip
            for m in ms:
                with transaction.atomic():
                    cursor.executemany(sql, [(m, t) for t in range(first, end, 60)])
                    total += cursor.rowcount
            cursor.execute("ANALYZE tokens_pricecandle")
        cursor.execute("SELECT count(*) FROM tokens_pricecandle")
        rows = cursor.fetchone()[0]
    return {"inserted": total, "rows": rows, "seconds": time.perf_counter() - began}


def stack_mints(stack) -> list[str]:
    """Every token the stack serves, walking the list's cursor pages."""
    found, url = [], "/api/tokens/?limit=200"
    while url:
        page = stack.get(url, timeout=10).json()
        found += [t["token_address"] for t in page["results"]]
        url = page["next"] and page["next"].split("://", 1)[1].split("/", 1)[1]
        url = url and "/" + url
    return found


def cache_outcomes(stack) -> dict[str, float]:
    text = stack.metrics_text()
    found = {
        o: sum_samples(text, "mds_response_cache_total", outcome=o)
        for o in ("hit", "stale", "miss", "coalesced")
    }
    found.update({p: sum_samples(text, "mds_candle_reads_total", path=p) for p in ("fast", "django")})
    return found


def read_bench(args: argparse.Namespace, label: str, url: str | None) -> list[dict]:
    """wrk on a random token's candles with the whole stack running (worker and beat refreshing)."""
    env = {"API_THROTTLE_RATE": "1000000000/min"}
    if url:
        env["DATABASE_URL"] = url
    results = []
    with (
        tempfile.TemporaryDirectory(prefix="bench-candles-") as tmp,
        running_stack(
            web_server=args.web_server, redis_db=args.redis_db, tokens=args.tokens, env=env
        ) as stack,
    ):
        ms = stack_mints(stack)
        mints_file = Path(tmp) / "mints.json"
        # --big: history for --tokens tokens in all, the ones the stack does not serve made up
        seeded_mints = ms + [m for m in mints(args.tokens) if m not in ms][: max(0, args.tokens - len(ms))]
        mints_file.write_text(json.dumps(seeded_mints if args.big else ms))
        extra = ["--mints", str(mints_file)] + (["--big", args.big] if args.big else [])
        seeded = child(args, stack.env["DATABASE_URL"], "seed", extra)
        print(f"  {label}: {len(ms)} tokens; {seeded['inserted']:,} candles seeded in {seeded['seconds']:.0f} s, "
              f"{seeded['rows']:,} in the table")  # fmt: skip
        time.sleep(10)  # a whole refresh cycle after seeding
        base = "/api/tokens/{}/candles/?interval=1m&limit=300"
        scenarios = {
            "same reads (response cache)": [base.format(m) for m in ms],
            # a distinct `before` in the future per request: same rows, a new read each time
            "distinct reads (database)": [
                base.format(m) + f"&before={int(time.time()) + 3600 + k}" for k in range(20) for m in ms
            ],
        }
        probe = stack.get(base.format(ms[0]), timeout=10)
        candles = len(probe.json()["candles"])
        for name, paths in scenarios.items():
            bench_stack.wrk(stack.url, paths, 32, 3, Path(tmp))  # warm-up
            before = cache_outcomes(stack)
            result = bench_stack.wrk(stack.url, paths, 32, args.duration, Path(tmp))
            after = cache_outcomes(stack)
            result.update({k: after[k] - before[k] for k in after}, scenario=name)
            results.append(result)
            print(
                f"  read {name:<28} {result['req_per_s']:,.0f} req/s, p50 {result['p50_ms']:.1f} ms, "
                f"p99 {result['p99_ms']:.1f} ms, p99.9 {result['p999_ms']:.1f} ms, non-2xx {result['non_2xx']}, "
                f"cache hit/stale/miss/coalesced {result['hit']:.0f}/{result['stale']:.0f}/{result['miss']:.0f}/"
                f"{result['coalesced']:.0f}, "
                f"misses answered fast/django {result['fast']:.0f}/{result['django']:.0f} "
                f"({candles} candles, {len(probe.content):,} bytes)",
                flush=True,
            )
    return results


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tokens", type=int, default=500)
    parser.add_argument("--snapshots", type=int, default=200)
    parser.add_argument(
        "--postgres", default=os.environ.get("TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")
    )
    parser.add_argument("--read", action="store_true")
    parser.add_argument("--no-write", action="store_true", help="only the read benchmark")
    parser.add_argument("--big", choices=["sqlite", "postgres"])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--web-server", default="uvicorn", choices=("uvicorn", "daphne"))
    parser.add_argument("--redis-db", type=int, default=12)
    parser.add_argument("--child", choices=["write", "seed"])
    parser.add_argument("--url")
    parser.add_argument("--mints")
    args = parser.parse_args()
    if args.child:
        result = {"write": write_bench, "seed": seed}[args.child](args)
        print(json.dumps(result))
        return 0
    tmp = Path(tempfile.mkdtemp(prefix="bench-candles-"))
    name = f"bench_candles_{os.getpid()}"
    try:
        if not args.no_write:
            urls = {"sqlite": f"sqlite:///{tmp / 'candles.sqlite3'}"}
            pg = postgres_db(args.postgres, name)
            if pg:
                urls["postgres"] = pg
            print(f"write: {args.snapshots} snapshots of {args.tokens} tokens")
            for url in urls.values():
                report_write(child(args, url, "write"), args.tokens)
        if args.read or args.big:
            for label in ("sqlite", "postgres"):
                if args.big and label != args.big:
                    continue
                url = None if label == "sqlite" else postgres_db(args.postgres, name + "_r")
                if label == "postgres" and url is None:
                    continue
                print(
                    f"read ({label}{', 7 days of 1m candles per token' if args.big else ''}; whole stack under "
                    f"{args.web_server}, {os.cpu_count()} CPUs): wrk -t2 -c32 -d{args.duration}s"
                )
                read_bench(args, label, url)
    finally:
        for db in (name, name + "_r"):
            with contextlib.suppress(Exception):
                drop_postgres_db(args.postgres, db)
    return 0


if __name__ == "__main__":
    sys.exit(main())
