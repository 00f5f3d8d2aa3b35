"""Acknowledge 10,000 Coupang orders through FakeCoupang on a loopback socket.

``CoupangClient.acknowledge`` sends at most 50 shipment boxes per call, so 10,000 orders take
exactly ceil(10000 / 50) = 200 calls, and the client's throttle bounds the wall time from below:
200 calls at ``--rate`` requests per second take 200 / rate seconds. The run passes when the
call count is exact and the wall time stays within 1.15x of that bound (the rate is raised from
the adapter's default of 5/s so the run stays short; the fake gateway throttles at twice it).

    python benchmarks/bench_coupang_ack.py              # 10,000 orders at 50 requests/s (4 s)
    python benchmarks/bench_coupang_ack.py --rate 100 --orders 5000
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from datetime import datetime, timezone

from consign_core.adapters.coupang import CoupangClient, Throttle
from consign_core.testing.fake_coupang import FakeCoupang


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=50.0, help="client requests per second")
    parser.add_argument("--limit", type=float, default=1.15, help="allowed wall / bound ratio")
    args = parser.parse_args(argv)

    fake = FakeCoupang(requests_per_second=2 * args.rate)
    paid = datetime.now(timezone.utc)
    boxes = [fake.add_order_sheet(paid_at=paid) for _ in range(args.orders)]
    expected_calls = math.ceil(args.orders / 50)
    with fake.serve() as url:
        client = CoupangClient(
            "A00012345",
            "test-access-key",
            "test-secret-key",
            base_url=url,
            throttle=Throttle(args.rate),
        )
        with client:
            start = time.perf_counter()
            results = client.acknowledge(boxes)
            seconds = time.perf_counter() - start
    calls = fake.count_calls("PUT", "/ordersheets/acknowledgement")
    bound = calls / args.rate
    ratio = seconds / bound if bound else float("inf")
    succeeded = sum(1 for r in results if r.succeeded)
    print(f"orders:       {args.orders}")
    print(f"calls:        {calls} (expected {expected_calls})")
    print(f"acknowledged: {succeeded}")
    print(f"seconds:      {seconds:.3f}")
    print(f"bound:        {bound:.3f} s ({calls} calls at {args.rate:g}/s)")
    print(f"ratio:        {ratio:.3f} (limit {args.limit})")
    passed = calls == expected_calls and succeeded == args.orders and ratio <= args.limit
    print("PASS" if passed else "FAIL")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
