"""Run every benchmark, one after the other, each in its own process (`make bench`).

Each prints its figures beside the baseline it measures in the same run. Run one alone with
`.venv/bin/python -m bench.<name>`. They need PostgreSQL and Redis on 127.0.0.1.
"""

import subprocess
import sys

BENCHMARKS = [
    "market_advance",  # tick pipeline vs a bare bulk UPDATE
    "tick_fanout",  # daphne + channels-redis vs a bare websockets server
    "orders_api",  # market orders through the API vs pgbench on the same SQL
    "matcher",  # matcher pass vs the bare range query
    "leaderboard",  # standings recompute vs the bare SQL and a naive loop
    "pages",  # dashboard and trade pages vs the same URLs serving pre-rendered bytes
]


def main() -> int:
    wanted = sys.argv[1:] or BENCHMARKS
    failures = 0
    for name in wanted:
        print(f"\n=== bench.{name} ===", flush=True)
        result = subprocess.run([sys.executable, "-m", f"bench.{name}"], check=False)
        failures += result.returncode != 0
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
