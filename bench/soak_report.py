"""The soak's figures: process memory from /proc, percentiles, histogram quantiles from /metrics,
and the printed report with its verdict (no event lost, no REST error)."""

from __future__ import annotations

import re
import subprocess
import threading
import time
from typing import Any

import redis
from prometheus_client.parser import text_string_to_metric_families


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            kids = [int(p) for p in f.read().split()]
    except OSError:
        return []
    return kids + [g for k in kids for g in _children(k)]


def _rss_mib(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def rss_by_process(procs: dict[str, subprocess.Popen]) -> dict[str, float]:
    """RSS (MiB) of each stack process and its children (daphnes, prefork children), by name:pid."""
    out = {}
    for name, proc in procs.items():
        for i, pid in enumerate([proc.pid, *_children(proc.pid)]):
            rss = _rss_mib(pid)
            if rss is not None:
                out[f"{name}{'' if i == 0 else f'.{i}'}:{pid}"] = rss
    return out


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)


def histogram_quantile(text: str, name: str, q: float, **labels: str) -> float | None:
    """Upper bound of the bucket holding the q-quantile (summed over the matching series)."""
    buckets: dict[float, float] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == f"{name}_bucket" and all(s.labels.get(k) == v for k, v in labels.items()):
                le = float(s.labels["le"])
                buckets[le] = buckets.get(le, 0.0) + s.value
    if not buckets or buckets[max(buckets)] == 0:
        return None
    total = buckets[max(buckets)]
    return next(le for le in sorted(buckets) if buckets[le] >= q * total)


def redis_memory_by_family(url: str) -> dict[str, tuple[int, float]]:
    """{key family: (keys, MiB by MEMORY USAGE)}: where Redis's memory went (the family is the key
    up to its first variable part: `mds:snapshot:*`, `mds:events:log`, `asgi:*`, …)."""
    client = redis.Redis.from_url(url)
    families: dict[str, list[float]] = {}
    for key in client.scan_iter(count=1000):
        name = key.decode(errors="replace")
        family = re.sub(r"(:[^:]*\d[^:]*|![^:]*)$", ":*", name) if not name.endswith(":current") else name
        if name.startswith("asgi"):
            family = "asgi:* (channel layer)"
        usage = client.memory_usage(key) or 0
        families.setdefault(family, []).append(usage)
    return {
        family: (len(sizes), round(sum(sizes) / 2**20, 1))
        for family, sizes in sorted(families.items(), key=lambda item: -sum(item[1]))
    }


class RssSampler(threading.Thread):
    """RSS of every stack process every `every` seconds, as (seconds since start, {name: MiB})."""

    def __init__(self, procs: dict[str, subprocess.Popen], every: float) -> None:
        super().__init__(daemon=True)
        self.procs, self.every = procs, every
        self.samples: list[tuple[float, dict[str, float]]] = []
        self._halt = threading.Event()
        self._t0 = time.monotonic()

    def run(self) -> None:
        while not self._halt.wait(self.every):
            self.samples.append((round(time.monotonic() - self._t0), rss_by_process(self.procs)))

    def stop(self) -> None:
        self._halt.set()
        self.join(5)


def after_warm_up(samples: list[tuple[float, dict[str, float]]], seconds: float) -> dict[str, float]:
    """The first sample taken after a quarter of the run (at least 60 s): memory once warmed up."""
    for at, rss in samples:
        if at >= max(60.0, seconds / 4):
            return rss
    return samples[-1][1] if samples else {}


def summarise(
    args, rss_start, rss_end, ws: dict, rest: dict, metrics: str, faults: list[str],
    samples: list[tuple[float, dict[str, float]]] | None = None,
    redis_families: dict[str, tuple[int, float]] | None = None,
) -> dict[str, Any]:  # fmt: skip
    ok = {k: v for k, v in rest["statuses"].items() if k in ("200", "304")}
    errors = sum(rest["statuses"].values()) - sum(ok.values())
    total = sum(rest["statuses"].values())
    lost = ws["events_expected"] - ws["events_received"]
    report = {
        "minutes": args.minutes,
        "faults": faults,
        "rss_mib": {
            "start": rss_start, "warm": after_warm_up(samples or [], args.minutes * 60), "end": rss_end,
            "samples": samples or [],
            "redis_by_family": redis_families or {},
        },
        "ws": {k: v for k, v in ws.items() if k != "batch_spread_s"}
        | {"events_lost": lost, "batch_spread_p50_s": percentile(ws["batch_spread_s"], 0.5),
           "batch_spread_p99_s": percentile(ws["batch_spread_s"], 0.99), "batches": len(ws["batch_spread_s"])},
        "rest": {
            "requests": total, "achieved_rps": round(total / rest["seconds"], 1), "statuses": rest["statuses"],
            "error_rate": round(errors / total, 5) if total else None,
            "p50_ms": percentile(rest["latencies_ms"], 0.5), "p99_ms": percentile(rest["latencies_ms"], 0.99),
            "max_ms": percentile(rest["latencies_ms"], 1.0),
        },
        "server": {
            "ws_fanout_p50_s": histogram_quantile(metrics, "mds_ws_fanout_seconds", 0.5),
            "ws_fanout_p99_s": histogram_quantile(metrics, "mds_ws_fanout_seconds", 0.99),
            "merge_p99_s": histogram_quantile(metrics, "mds_merge_seconds", 0.99),
            "http_token_list_p99_s": histogram_quantile(metrics, "mds_http_request_seconds", 0.99, endpoint="token-list"),
            "http_token_detail_p99_s": histogram_quantile(metrics, "mds_http_request_seconds", 0.99, endpoint="token-detail"),
        },
    }  # fmt: skip
    clean = lost == 0 and ws["behind_head"] == 0 and ws["resyncs"] == 0 and errors == 0
    report["verdict"] = "ok" if clean else "FAILED"
    return report


def render(report: dict[str, Any]) -> str:
    lines = [f"Soak: {report['minutes']} min, faults injected: {', '.join(report['faults']) or 'none'}"]
    start, warm, end = (report["rss_mib"][k] for k in ("start", "warm", "end"))
    lines.append("RSS MiB (start -> after warm-up -> end; growth after warm-up; max over the 30 s samples):")
    for key in sorted(set(start) | set(end)):
        peak = max((rss.get(key, 0.0) for _, rss in report["rss_mib"]["samples"]), default=None)
        growth = f"{end[key] - warm[key]:+.1f}" if key in end and key in warm else "-"
        lines.append(
            f"  {key:<24} {start.get(key, '-'):>8} -> {warm.get(key, '-'):>8} -> {end.get(key, '-'):>8}"
            f"   {growth:>6}   max {peak}"
        )
    families = report["rss_mib"]["redis_by_family"]
    if families:
        lines.append(
            "Redis at the end, by key family (keys, MiB): "
            + ", ".join(f"{name} {keys} / {mib}" for name, (keys, mib) in list(families.items())[:8])
        )
    ws, rest, server = report["ws"], report["rest"], report["server"]
    lines.append(
        f"WebSocket: {ws['clients']} clients, head seq {ws['head']}, events received {ws['events_received']}"
        f" / expected {ws['events_expected']} (lost {ws['events_lost']}), behind head {ws['behind_head']},"
        f" gaps resumed {ws['gaps_resumed']}, reconnects {ws['reconnects']}, resyncs {ws['resyncs']},"
        f" close codes {ws['close_codes']}; batch arrival spread p50 {ws['batch_spread_p50_s']} s"
        f" p99 {ws['batch_spread_p99_s']} s over {ws['batches']} batches"
    )
    lines.append(
        f"REST: {rest['requests']} requests ({rest['achieved_rps']}/s), error rate {rest['error_rate']},"
        f" statuses {rest['statuses']}, p50 {rest['p50_ms']} ms, p99 {rest['p99_ms']} ms, max {rest['max_ms']} ms"
    )
    lines.append(
        "Server (/metrics histograms, bucket upper bounds): "
        + ", ".join(f"{k} {v}" for k, v in server.items())
    )
    lines.append(f"Verdict: {report['verdict']}")
    return "\n".join(lines)
