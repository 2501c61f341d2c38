"""Paced load generator for bench/orders_api.py (the "70 % of peak" run); no Django imports.

Plain wrk has no rate limit, so this sends market orders at a fixed rate (open loop, like
wrk2): request k is due at t0 + k / RATE whoever sends it. THREADS threads each keep one
keep-alive http.client connection and their own account (line n of ACCOUNTS, "account_id
token"), alternating buy / sell of 1 unit. Latency is measured from the request's DUE time
(so a backlog shows up as latency instead of silently lowering the rate: no coordinated
omission) and, separately, from the moment it was actually sent (service time).

Prints one JSON line on stdout.
"""

import argparse
import http.client
import json
import threading
import time


def percentile(samples: list[float], p: float) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--accounts", required=True)
    parser.add_argument("--rate", type=float, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--symbol", required=True)
    args = parser.parse_args()

    with open(args.accounts) as handle:
        accounts = [line.split() for line in handle if line.strip()]
    lock = threading.Lock()
    next_slot = [0]
    start = time.perf_counter() + 0.3
    end = start + args.seconds
    scheduled_ms: list[float] = []
    service_ms: list[float] = []
    statuses: dict[str, int] = {}
    errors: list[str] = []

    def worker(n: int) -> None:
        account, token = accounts[n % len(accounts)]
        path = f"/api/accounts/{account}/orders"
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
        conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=30)
        sent = 0
        while True:
            with lock:
                slot = next_slot[0]
                next_slot[0] += 1
            due = start + slot / args.rate
            if due >= end:
                break
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            sent += 1
            side = "buy" if sent % 2 == 1 else "sell"
            body = json.dumps(
                {"symbol": args.symbol, "side": side, "type": "market", "quantity": "1"}
            )
            began = time.perf_counter()
            try:
                conn.request("POST", path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                status = str(response.status)
            except (OSError, http.client.HTTPException) as exc:
                status = "error"
                with lock:
                    errors.append(repr(exc))
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=30)
            finished = time.perf_counter()
            with lock:
                statuses[status] = statuses.get(status, 0) + 1
                scheduled_ms.append((finished - due) * 1000)
                service_ms.append((finished - began) * 1000)
        conn.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(args.threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    ok = sum(count for status, count in statuses.items() if status.startswith("2"))
    print(
        json.dumps(
            {
                "target_rate": args.rate,
                "sent": sum(statuses.values()),
                "ok": ok,
                "non2xx": sum(statuses.values()) - ok,
                "statuses": statuses,
                "rate": ok / elapsed,
                "elapsed_s": elapsed,
                "p50_ms": percentile(scheduled_ms, 50),
                "p99_ms": percentile(scheduled_ms, 99),
                "service_p50_ms": percentile(service_ms, 50),
                "service_p99_ms": percentile(service_ms, 99),
                "errors": errors[:5],
            }
        )
    )


if __name__ == "__main__":
    main()
