"""Summarise py-spy raw (folded) stacks: the top functions by own and by inclusive samples.

    .venv/bin/python bench/pyspy_top.py /tmp/spy/web-*.txt [--top 25] [--match fan_out]

`--match` keeps only the stacks passing through a frame containing that text (e.g. the relay's
fan-out), so the percentages are of the time spent under it.
"""

from __future__ import annotations

import argparse
import collections
import re
from pathlib import Path

_LINE = re.compile(r"^(.*) (\d+)$")


def frame_name(frame: str) -> str:
    """`func (path/file.py:123)` → `func (file.py)`: one row per function, not per line."""
    m = re.match(r"^(.*?) \((.*?)(?::\d+)?\)$", frame)
    if not m:
        return frame
    return f"{m.group(1)} ({Path(m.group(2)).name})"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("files", nargs="+")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--match", help="only stacks through a frame containing this text")
    args = parser.parse_args()
    own: collections.Counter[str] = collections.Counter()
    incl: collections.Counter[str] = collections.Counter()
    total = 0
    for name in args.files:
        for line in Path(name).read_text().splitlines():
            m = _LINE.match(line)
            if not m:
                continue
            frames = [frame_name(f) for f in m.group(1).split(";")]
            if args.match and not any(args.match in f for f in frames):
                continue
            count = int(m.group(2))
            total += count
            own[frames[-1]] += count
            for f in set(frames):
                incl[f] += count
    print(f"{total} samples")
    for title, counter in (("own", own), ("inclusive", incl)):
        print(f"\n{title}:")
        for f, n in counter.most_common(args.top):
            print(f"  {100 * n / max(total, 1):5.1f}%  {f}")


if __name__ == "__main__":
    main()
