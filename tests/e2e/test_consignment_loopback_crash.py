"""The whole flow, killed: the engine on a SQLite file in a child process, between FakeCoupang
and FakeDomeme served on loopback sockets by this (parent) process, is killed with SIGKILL at
random points and restarted; it still ships or honestly cancels every order, never orders
(pays) twice on Domeme and never acknowledges or invoices a Coupang box twice.

The fakes live in the parent, so they outlive every child exactly as the real markets outlive
a crashed seller process; a supplier actor thread in the parent confirms and ships the Domeme
orders (or cancels the sold-out ones) as real time passes. Run as a script, this file is the
child: ``python test_consignment_loopback_crash.py --db ... --refs ... --coupang URL --domeme
URL`` runs the engine until every order in the refs file is finished.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest


VENDOR = "A00012345"
ITEM, SOLO = 3_000_000_001, 3_000_000_009  # Coupang vendorItemIds
PRIMARY, ALTERNATE, ONLY = "1001", "1002", "1009"  # Domeme item numbers
SOURCES = {str(ITEM): [("S1", PRIMARY), ("S2", ALTERNATE)], str(SOLO): [("S1", ONLY)]}
ORDERS, SOLO_ORDERS, PRIMARY_STOCK = 42, 7, 20
PAY_EVERY = 0.5  # seconds between two buyers' payments
KILLS = 12


# --------------------------------------------------------------------------------------
# The child: the seller's process
# --------------------------------------------------------------------------------------


def child(argv: list[str] | None = None) -> int:
    """Run the engine (SQLite store) against the fakes until every order is finished."""
    from consign_core.adapters.coupang import CoupangClient, CoupangMarket, Throttle
    from consign_core.adapters.domeme import DomemeClient, DomemeSupplier
    from consign_core.domain.model import OrderRef
    from consign_core.domain.rules import COUPANG
    from consign_core.domain.timing import make_policy
    from consign_core.engine import Engine
    from consign_core.store import SQLiteStore

    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--refs", type=Path, required=True)
    parser.add_argument("--coupang", required=True)
    parser.add_argument("--domeme", required=True)
    args = parser.parse_args(argv)
    coupang = CoupangClient(
        VENDOR,
        "test-access-key",
        "test-secret-key",
        base_url=args.coupang,
        user_id="wing-login",
        throttle=Throttle(500.0),
        timeout=5.0,
        retry_wait_initial=0.0,
        retry_wait_max=0.01,
    )
    domeme = DomemeClient(
        "test-api-key",
        "buyer1",
        "test-password",
        base_url=args.domeme,
        timeout=5.0,
        rate_limit_per_minute=10**9,
        rate_limit_per_day=None,
    )
    store = SQLiteStore(args.db)
    engine = Engine(
        CoupangMarket(coupang),
        DomemeSupplier(domeme, shop_name="하늘가게", feed_every=timedelta(0)),
        store,
        policy=make_policy("confirm-immediately"),
        profile=COUPANG,
        sources=SOURCES,
    )
    engine.active_orders()  # load the store and replay the journal before saying "ready"
    print("ready", flush=True)
    step = 0
    while True:
        if args.refs.exists():  # the parent is done killing: stop once every order is finished
            refs = json.loads(args.refs.read_text(encoding="utf-8"))
            states = [engine.order(OrderRef(market="coupang", order_id=r)) for r in refs]
            if all(s is not None and s.is_terminal for s in states):
                break
        print("step", step, flush=True)
        engine.run_once(datetime.now(timezone.utc))
        step += 1
        time.sleep(0.02)
    store.close()
    coupang.close()
    domeme.close()
    print("done", flush=True)
    return 0


# --------------------------------------------------------------------------------------
# The parent: the markets, the buyers and the suppliers
# --------------------------------------------------------------------------------------


class Actors(threading.Thread):
    """The buyers and Domeme's suppliers, in real time. A buyer pays one order every
    ``PAY_EVERY`` (every sixth for the item only S1 sells). A supplier confirms an order
    0.2 s after it is placed and ships it 0.8 s after; orders of the item only S1 sells are
    cancelled (판매취소, 품절) instead."""

    def __init__(self, coupang: object, domeme: object) -> None:
        super().__init__(daemon=True, name="actors")
        self.coupang = coupang
        self.domeme = domeme
        self.boxes: dict[int, str] = {}
        self.stop = threading.Event()
        self.all_paid = threading.Event()
        self.failures: list[BaseException] = []

    def run(self) -> None:
        try:
            self._run()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.failures.append(exc)

    def _run(self) -> None:
        from consign_core.adapters.coupang import order_ref
        from consign_core.testing.fake_coupang import FakeCoupang
        from consign_core.testing.fake_domeme import FakeDomeme

        coupang, fake = self.coupang, self.domeme
        assert isinstance(coupang, FakeCoupang)
        assert isinstance(fake, FakeDomeme)
        started = time.monotonic()
        while not self.stop.wait(0.02):
            due = min(ORDERS, int((time.monotonic() - started) / PAY_EVERY) + 1)
            while len(self.boxes) < due:
                item = SOLO if len(self.boxes) % (ORDERS // SOLO_ORDERS) == 0 else ITEM
                box = coupang.add_order_sheet(vendor_item_id=item)
                self.boxes[box] = str(order_ref(coupang.order_id_of(box), box).order_id)
                if len(self.boxes) == ORDERS:
                    self.all_paid.set()
            now = datetime.now(timezone.utc)
            for order in list(fake.orders.values()):
                age = now - order.placed_at
                if order.status_mode not in {"WAITCHK", "WAITDELI"}:
                    continue
                if order.item_no == ONLY:
                    if age >= timedelta(seconds=0.4):
                        fake.cancel_by_supplier(order.order_no, "품절로 인한 판매취소")
                elif age >= timedelta(seconds=0.8):
                    fake.invoice(order.order_no, courier="DAEHAN")
                elif age >= timedelta(seconds=0.2):
                    fake.confirm(order.order_no)


def start_child(directory: Path, coupang: str, domeme: str) -> subprocess.Popen[str]:
    command = [
        sys.executable,
        __file__,
        "--db",
        str(directory / "state.db"),
        "--refs",
        str(directory / "refs.json"),
        "--coupang",
        coupang,
        "--domeme",
        domeme,
    ]
    return subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=directory,
    )


@pytest.fixture
def world() -> Iterator[tuple[object, object, str, str, Actors]]:
    from consign_core.testing.fake_coupang import FakeCoupang
    from consign_core.testing.fake_domeme import FakeDomeme

    coupang = FakeCoupang(vendor_id=VENDOR, user_id="wing-login", requests_per_second=None)
    domeme = FakeDomeme(emoney=10_000_000, rate_limit_per_minute=10**9)
    domeme.add_item(PRIMARY, seller_id="S1", price=8_000, stock=PRIMARY_STOCK)
    domeme.add_item(ALTERNATE, seller_id="S2", price=8_500, stock=500)
    domeme.add_item(ONLY, seller_id="S1", price=12_000, stock=500)
    actors = Actors(coupang, domeme)
    with coupang.serve() as coupang_url, domeme.serve() as domeme_server:
        actors.start()
        yield coupang, domeme, coupang_url, domeme_server.url, actors
        actors.stop.set()
        actors.join(timeout=5)


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)")
def test_loopback_coupang_domeme_sigkills_never_pay_or_acknowledge_twice(
    tmp_path: Path, world: tuple[object, object, str, str, Actors]
) -> None:
    from consign_core.domain.model import CancelFault, CancelReason, OrderRef
    from consign_core.domain.workflow import OrderStatus
    from consign_core.store import SQLiteStore
    from consign_core.testing.fake_coupang import FakeCoupang
    from consign_core.testing.fake_domeme import FakeDomeme, FakeDomemeOrder

    coupang, domeme, coupang_url, domeme_url, actors = world
    assert isinstance(coupang, FakeCoupang)
    assert isinstance(domeme, FakeDomeme)

    rng = random.Random(20261207)
    kills = 0
    while kills < KILLS:
        proc = start_child(tmp_path, coupang_url, domeme_url)
        assert proc.stdout is not None
        ready = proc.stdout.readline()
        assert ready.startswith("ready"), proc.stderr.read() if proc.stderr else ready
        line = ""
        for _ in range(rng.randint(1, 3)):
            line = proc.stdout.readline()
        assert line.startswith("step"), line  # it cannot finish before the refs file exists
        time.sleep(rng.uniform(0.0, 0.05))
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate()
        kills += 1
    assert kills == KILLS, f"the run finished after {kills} kills"
    # Every buyer has paid: the refs file lets the last child stop once all are finished.
    assert actors.all_paid.wait(timeout=60)
    refs = tmp_path / "refs.json"
    part = tmp_path / "refs.json.part"
    part.write_text(json.dumps(list(actors.boxes.values())), encoding="utf-8")
    part.replace(refs)  # atomically: the child never reads half a file
    proc = start_child(tmp_path, coupang_url, domeme_url)
    try:
        out, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        stuck = SQLiteStore(tmp_path / "state.db")
        left = [(str(s.order.ref), s.status.value, s.escalation) for s in stuck.load_active()]
        stuck.close()
        pytest.fail(f"the last run did not finish every order: {left}")
    assert proc.returncode == 0, err
    assert out.strip().endswith("done"), out
    assert actors.failures == []
    boxes = {box: OrderRef(market="coupang", order_id=oid) for box, oid in actors.boxes.items()}

    # Domeme: never two orders for one key, never two live (paid, not refunded) orders for one
    # market order; the e-money spent is exactly what the live orders cost.
    assert domeme.duplicate_orders == 0
    live: dict[str, FakeDomemeOrder] = {}
    for order in domeme.orders.values():
        ref_text = order.memo.split()[1].rpartition(":")[0]  # [CC <ref>:<attempt> <supplier>]
        if order.status_mode not in {"DENYBUY", "DENYSELL"}:
            assert ref_text not in live, f"{ref_text} is paid twice"
            live[ref_text] = order
    assert domeme.emoney == 10_000_000 - sum(o.amount for o in live.values())
    # Coupang: no box acknowledged or invoiced twice; the seller cancels are the stock-outs.
    acks: Counter[int] = Counter()
    uploads: Counter[int] = Counter()
    for call in coupang.calls:
        if call.method == "PUT" and call.path.endswith("ordersheets/acknowledgement"):
            acks.update(call.body["shipmentBoxIds"])
        if call.method == "POST" and call.path.endswith("orders/invoices"):
            uploads.update(d["shipmentBoxId"] for d in call.body["orderSheetInvoiceApplyDtos"])
    assert set(acks.values()) == {1}
    assert (coupang.duplicate_acknowledgements, coupang.duplicate_uploads) == (0, 0)
    cancels = Counter(c["middleCancelCode"] for c in coupang.seller_cancels)
    assert cancels == Counter({"CCTTER": SOLO_ORDERS})
    store = SQLiteStore(tmp_path / "state.db")
    try:
        for box, ref in boxes.items():
            state = store.get_order(ref)
            assert state is not None
            if state.item_id == ONLY:  # sold out: cancelled as a seller-fault stock-out
                assert state.status is OrderStatus.CANCELLED
                assert state.cancellation is not None
                assert state.cancellation.fault is CancelFault.SELLER
                assert state.cancellation.reason is CancelReason.STOCK_OUT
                assert coupang.status_of(box) == "CANCELLED"
                assert box not in uploads
                assert str(ref) not in live
            else:
                assert state.status is OrderStatus.SHIPPED
                assert coupang.invoice_of(box) == ("CJGLS", live[str(ref)].tracking)
                assert (acks[box], uploads[box]) == (1, 1)
    finally:
        store.close()


if __name__ == "__main__":
    sys.exit(child())
