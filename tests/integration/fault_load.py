"""A load of simulated calls and its reconciliation, for the fault tests (docs/faults.md).

The load is rated in this process with the pure core, from the same events and reference
data; after the fault, ClickHouse must hold exactly those CDRs, that money and those
balances, and `dead-letters` exactly the calls that cannot be rated: nothing lost,
nothing billed twice, nothing reported that did not happen.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

import orjson

from cdrflow.demo_data import CALLERS
from cdrflow.settings import Settings
from projections.balance import balance
from projections.clickhouse import connect
from rating.rater import Rejection, rate_call
from streams.assembly import State, apply
from streams.events import CallStep, encode
from streams.publisher import publish
from streams.reference_feed import load_reference_data
from streams.simulator import calls
from streams.topics import CALL_EVENTS, DEAD_LETTERS
from tests.integration.support import Processes, read_topic, wait_for

USERS = sorted({caller.user_id for caller in CALLERS})


@dataclass
class Expected:
    """What rating the load in this process gives, per user."""

    cdrs: Counter[int] = field(default_factory=Counter)
    money: dict[int, Decimal] = field(default_factory=dict)
    rejected: int = 0

    @property
    def count(self) -> int:
        return sum(self.cdrs.values())


def load_events(count: int, seed: int) -> list[list[CallStep]]:
    """`count` simulated calls of the demo users ending over the last hour, in order."""
    began = time.time() - 3600
    clock = iter(began + 3600 * n / count for n in range(count))
    generator = calls(CALLERS, seed, clock=lambda: next(clock))
    return [next(generator) for _ in range(count)]


def expected_of(settings: Settings, load: list[list[CallStep]]) -> Expected:
    data = asyncio.run(load_reference_data(settings))
    expected = Expected()
    for events in load:
        state: State | None = None
        for event in events:
            step = apply(state, event)
            state = step.state
        assert step.call is not None
        result = rate_call(step.call, data)
        if isinstance(result, Rejection):
            expected.rejected += 1
            continue
        expected.cdrs[result.user_id] += 1
        expected.money[result.user_id] = (expected.money.get(result.user_id, Decimal(0))
                                          + result.user_price)
    return expected


class Run:
    """The worker and the sink over a published load, and its checks."""

    def __init__(self, settings: Settings, processes: Processes,
                 load: list[list[CallStep]]) -> None:
        self.settings = settings
        self.processes = processes
        self.load = load
        self.expected = expected_of(settings, load)
        self.client = connect(settings.clickhouse)
        self.balances_before: dict[int, Decimal] = {}

    def start(self) -> None:
        """Sink, the users projected, balances before; the worker; the whole load."""
        self.processes.start("sink")
        wait_for(lambda: self.client.execute("SELECT count() FROM users FINAL")[0][0]
                 >= len(USERS), 60, "the demo users projected", self.processes)
        self.balances_before = {user: balance(self.client, user) for user in USERS}
        self.processes.start("worker")
        asyncio.run(publish(self.settings, CALL_EVENTS, [
            (e.call_id.encode(), encode(e)) for events in self.load for e in events]))

    def projected(self) -> int:
        """CDR rows in ClickHouse, duplicates included (cheap: progress only)."""
        return int(self.client.execute("SELECT count() FROM cdrs")[0][0])

    def wait_projected(self, share: float, timeout: float = 600) -> None:
        wanted = share * self.expected.count
        wait_for(lambda: self.projected() >= wanted, timeout,
                 f"{share:.0%} of the calls projected", self.processes)

    def finish(self, timeout: float = 900, foreign: str | None = None) -> None:
        """Wait for every CDR, then check everything (dead letters keyed `foreign...`
        are not the load's)."""
        wanted = self.expected.count
        wait_for(lambda: self.client.execute("SELECT count() FROM cdrs FINAL")[0][0]
                 >= wanted, timeout, f"{wanted:,} CDRs", self.processes)
        time.sleep(3)  # anything still in flight that should not be there would land now
        self.reconcile(foreign)

    def reconcile(self, foreign: str | None = None) -> None:
        expected = self.expected
        rows = self.client.execute("SELECT user_id, count(), toString(sum(user_price)) "
                                   "FROM cdrs FINAL GROUP BY user_id ORDER BY user_id")
        assert {user: (count, Decimal(money)) for user, count, money in rows} == {
            user: (expected.cdrs[user], expected.money[user]) for user in expected.cdrs}
        for user, before in self.balances_before.items():
            assert balance(self.client, user) == before - expected.money.get(user, Decimal(0))
        letters = [orjson.loads(value or b"{}")
                   for _, value in asyncio.run(read_topic(self.settings, DEAD_LETTERS))]
        if foreign:
            letters = [letter for letter in letters
                       if not str(letter.get("key")).startswith(foreign)]
        reasons = Counter(str(letter["reason"]).split(":")[0] for letter in letters)
        assert reasons == (Counter({"rejected": expected.rejected}) if expected.rejected
                           else Counter())
