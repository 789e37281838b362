"""How much parallel CPU this machine really gives: N busy processes at once vs one alone.

Why: the voting benchmark converts CPU per vote into an expected rate assuming every
core is a full core. On a VM whose vCPUs are hyperthread siblings or are shared, that
overestimates; this prints the core-equivalents actually available.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import time


def burn(n: int) -> float:
    """A fixed amount of pure-Python arithmetic; returns its wall time."""
    start = time.perf_counter()
    x = 0
    for i in range(n):
        x += i * i
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=int, default=20_000_000, help="loop iterations per process (default 2e7)")
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1,
                        help="parallel processes (default: cores)")
    args = parser.parse_args()
    alone = min(burn(args.work) for _ in range(3))
    with mp.Pool(args.processes) as pool:
        start = time.perf_counter()
        pool.map(burn, [args.work] * args.processes)
        together = time.perf_counter() - start
    capacity = args.processes * alone / together
    print(f"{args.processes} cores reported; one process {alone:.2f} s, {args.processes} at once {together:.2f} s")
    print(f"parallel capacity: {capacity:.2f} core-equivalents")


if __name__ == "__main__":
    main()
