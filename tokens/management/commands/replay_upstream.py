"""`manage.py replay_upstream`: serve the offline replay of DexScreener, Jupiter and GeckoTerminal."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from argparse import RawDescriptionHelpFormatter
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tokens.replay.app import DEFAULT_JUPITER_RPM, ReplayApp
from tokens.replay.faults import MODES, parse_fault_flag
from tokens.replay.server import make_server

HELP = """\
Serve a synthetic, deterministic Solana meme-coin market over HTTP as the three upstream APIs.
Point the service at it with
  DEXSCREENER_BASE_URL=http://HOST:PORT/dexscreener
  JUPITER_BASE_URL=http://HOST:PORT/jupiter
  GECKOTERMINAL_BASE_URL=http://HOST:PORT/geckoterminal

Control API (JSON, same port; see tokens/replay/README.md):
  GET    /_control/ping                      {"ok": true, "seed": 7, "tokens": 300}
  GET    /_control/universe                  every token's true values, pools and which sources see them
  GET    /_control/stats?since=UNIX          {"requests": [{"t", "source", "path", "query", "status"}, ...]}
  GET    /_control/faults                    the current faults
  POST   /_control/faults  {"source": "jupiter", "mode": "429|500|slow|timeout|malformed|empty|ok",
                            "retry_after": 5, "delay": 3.0, "count": null|N}
  DELETE /_control/faults                    clear every fault
  POST   /_control/move    {"mint": "...", "price_factor": 1.10, "volume_m5_factor": 5.0[, "source": "jupiter"]}
  POST   /_control/motion  {"enabled": false}
  POST   /_control/reset                     back to the seeded start; faults and stats cleared

Fault modes: 429 (with Retry-After: retry_after), 500, slow (answers after `delay` s), timeout (after 60 s),
malformed (200 with the JSON cut in half), empty (200 with no body), ok (clears). -v 2 logs each request.
"""


class Command(BaseCommand):
    help = HELP
    requires_system_checks: list[str] = []  # needs no database, models or settings checks

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.formatter_class = RawDescriptionHelpFormatter
        return parser

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--port", type=int, default=8900, help="TCP port (0 picks a free one); default 8900"
        )
        parser.add_argument("--host", default="127.0.0.1", help="interface to bind; default 127.0.0.1")
        parser.add_argument(
            "--tokens", type=int, default=300, help="tokens in the synthetic market; default 300"
        )
        parser.add_argument("--seed", type=int, default=7, help="random seed of the market; default 7")
        parser.add_argument("--no-motion", action="store_true", help="prices and volumes stay at their start")
        parser.add_argument(
            "--fault",
            action="append",
            default=[],
            metavar="SOURCE=MODE[:VALUE]",
            help=f"initial fault, repeatable; MODE one of {', '.join(MODES)}; VALUE is the delay for "
            "slow, the Retry-After for 429 (e.g. --fault jupiter=429:30 --fault geckoterminal=slow:2)",
        )
        parser.add_argument(
            "--jupiter-rpm",
            type=int,
            default=DEFAULT_JUPITER_RPM,
            help=f"Jupiter's sliding 60 s request limit (429 beyond it; 0 = unlimited); default {DEFAULT_JUPITER_RPM}",
        )

        parser.add_argument(
            "--handshake-ms",
            type=float,
            default=0.0,
            help="delay before the first request of each new connection is read, like a TLS handshake; default 0",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["tokens"] < 1:
            raise CommandError("--tokens must be at least 1")
        try:
            faults = [parse_fault_flag(text) for text in options["fault"]]
        except ValueError as exc:
            raise CommandError(f"--fault: {exc}") from exc
        if options["verbosity"] >= 2:
            logging.getLogger("tokens.replay").setLevel(logging.DEBUG)
        app = ReplayApp(
            seed=options["seed"],
            n_tokens=options["tokens"],
            motion=not options["no_motion"],
            faults=faults,
            jupiter_rpm=options["jupiter_rpm"],
        )
        try:
            server = make_server(options["host"], options["port"], app, options["handshake_ms"] / 1000.0)
        except OSError as exc:
            raise CommandError(f"cannot listen on {options['host']}:{options['port']}: {exc}") from exc
        host, port = server.server_address[:2]
        signal.signal(
            signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown, daemon=True).start()
        )
        self.stdout.write(
            f"Replay upstream on http://{host}:{port} ({len(app.universe.tokens)} tokens, seed {options['seed']}, "
            f"motion {'off' if options['no_motion'] else 'on'})"
        )
        sys.stdout.flush()
        try:
            server.serve_forever(poll_interval=0.2)
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
