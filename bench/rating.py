"""Rating throughput: rated calls per second on one core against a 100,000-prefix tariff.

Everything is built from a seed, so two runs rate the same calls against the same
tariffs. The retail tariff (Europe/Vilnius, Lithuanian holidays) has the country codes
and their mobile and fixed ranges of 3 to 9 digits; some ranges have peak/off-peak or
free-day windows, a few have tiered rates, connection fees, minimal times or grace
times. The carrier's buy tariff (UTC) prices the same ranges flat. The calls cover one
week with Christmas in it, follow the daily traffic curve, and mostly dial known ranges:
about 60 % are answered with a long-tailed duration, the rest are busy, not answered or
failed, among them the calls to numbers no tariff knows.

    python -m bench.rating --calls 200000 [--prefixes 100000] [--seed 1] [--runs 3] [--profile]
    python -m bench.rating --calls 12000 --prefixes 10000 --once rate|build   # cachegrind
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from rating.calendar import Calendar, zone
from rating.call import Call
from rating.cdr import Cdr
from rating.numbers import NumberPlan
from rating.rater import rate_call
from rating.reference import Account, Device, Provider, ReferenceData
from rating.tariff import EVENT, Destination, Rate, Tariff, Tier
from rating.tariff_events import ExchangeRate

# ITU country codes (no 99x "unassigned" ones: the bench dials those as unknown numbers)
COUNTRY_CODES = """
1 7 20 27 30 31 32 33 34 36 39 40 41 43 44 45 46 47 48 49 51 52 53 54 55 56 57 58 60 61
62 63 64 65 66 81 82 84 86 90 91 92 93 94 95 98 211 212 213 216 218 220 221 222 223 224
225 226 227 228 229 230 231 232 233 234 235 236 237 238 239 240 241 242 243 244 245 248
249 250 251 252 253 254 255 256 257 258 260 261 262 263 264 265 266 267 268 269 290 291
297 298 299 350 351 352 353 354 355 356 357 358 359 370 371 372 373 374 375 376 377 378
380 381 382 383 385 386 387 389 420 421 423 500 501 502 503 504 505 506 507 508 509 590
591 592 593 594 595 596 597 598 599 670 672 673 674 675 676 677 678 679 680 681 682 683
685 686 687 688 689 690 691 692 850 852 853 855 856 880 886 960 961 962 963 964 965 966
967 968 970 971 972 973 974 975 976 977 992 993 994 995 996 998
""".split()
UNKNOWN_CODES = ("990", "997", "999")
HOLIDAYS = frozenset({date(2026, 12, 24), date(2026, 12, 25), date(2026, 12, 26)})
WEEK_START = datetime(2026, 12, 21, tzinfo=zone("Europe/Vilnius"))  # a Monday
HOURLY_TRAFFIC = (1, 1, 1, 1, 1, 2, 4, 8, 12, 14, 14, 13, 12, 13, 14, 14, 13, 11, 9, 7, 6, 4,
                  3, 2)
UNANSWERED_CAUSES = (17, 17, 17, 16, 16, 19, 19, 19, 21, 34, 38, 127)
USERS = (2, 2, 2, 3, 3, 7)  # 2 pays USD, 3 pays EUR with tax, 7 is a reseller's user
PEAK = (8 * 3600, 18 * 3600)


@dataclass(frozen=True)
class Workload:
    data: ReferenceData
    retail: Tariff
    calls: list[Call]


def build_rates(rng: random.Random, prefixes: int) -> tuple[list[Rate], list[Rate]]:
    """Retail and buy rates for `prefixes` destinations."""
    weights = {cc: rng.lognormvariate(0, 1) for cc in COUNTRY_CODES}
    total, shared = sum(weights.values()), prefixes - len(COUNTRY_CODES)
    chosen: dict[str, tuple[str, str]] = {}  # prefix -> (country code, kind)
    for cc, weight in weights.items():
        chosen[cc] = (cc, "fixed")
        mobile = rng.sample("123456789", 3)
        wanted = len(chosen) + round(weight / total * shared)
        while len(chosen) < min(wanted, prefixes):
            length = rng.choice((3, 4, 5, 5, 6, 6, 6, 7, 7, 8, 9))
            if length <= len(cc):
                continue
            tail = "".join(rng.choices("0123456789", k=length - len(cc)))
            chosen.setdefault(cc + tail, (cc, "mobile" if tail[0] in mobile else "fixed"))
    while len(chosen) < prefixes:  # rounding left a few: give them to the big countries
        cc = rng.choice(("1", "7", "44", "49", "86", "91"))
        tail = "".join(rng.choices("0123456789", k=rng.randint(3, 8 - len(cc))))
        chosen.setdefault(cc + tail, (cc, "fixed"))
    base = {cc: rng.randint(500, 150_000) for cc in COUNTRY_CODES}  # micro-units per minute
    retail, buy = [], []
    for prefix, (cc, kind) in sorted(chosen.items()):
        micro = base[cc] * (rng.randint(150, 400) if kind == "mobile" else 100) // 100
        destination = Destination(prefix, f"{cc} {kind} {prefix}", cc, kind, f"{cc} {kind}")
        retail += _retail_rates(rng, destination, micro)
        buy.append(Rate.wholesale(destination, _money(micro // 2)))
    return retail, buy


def _retail_rates(rng: random.Random, destination: Destination, micro: int) -> list[Rate]:
    fee = _money(rng.choice((10_000, 20_000, 50_000))) if rng.random() < 0.1 else Decimal(0)
    min_time = rng.choice((10, 30, 60)) if rng.random() < 0.1 else 0
    increment = rng.choice((1, 1, 1, 1, 1, 1, 6, 30, 60))
    grace = 3 if rng.random() < 0.05 else 0
    if rng.random() < 0.02:  # tiered: a first-minute block, cheaper seconds, a flat extra
        tiers = (Tier(0, 60, _money(micro), 60), Tier(60, None, _money(micro * 8 // 10)),
                 Tier(600, None, _money(micro), kind=EVENT))
        return [Rate(destination, tiers, grace_time=grace)]
    shape = rng.random()
    if shape < 0.75:
        return [Rate.wholesale(destination, _money(micro), fee, min_time, increment,
                               grace_time=grace)]
    windows: list[tuple[str, int, int, int]] = [("all", 0, 86_400, micro * 6 // 10)]
    windows.append(("work", *PEAK, micro))
    if shape > 0.95:  # a cheaper free-day rate as well
        windows.append(("free", 0, 86_400, micro * 4 // 10))
    return [Rate.wholesale(destination, _money(price), fee, min_time, increment, days=days,
                           start_second=start, end_second=end, grace_time=grace)
            for days, start, end, price in windows]


def _money(micro: int) -> Decimal:
    return Decimal(micro).scaleb(-6)


def build_calls(rng: random.Random, prefixes: Sequence[str], count: int) -> list[Call]:
    calls = []
    week_ms = int(WEEK_START.timestamp()) * 1000
    for n in range(count):
        day, hour = rng.randrange(7), rng.choices(range(24), HOURLY_TRAFFIC)[0]
        start_ms = week_ms + ((day * 24 + hour) * 3600 + rng.randrange(3600)) * 1000
        start_ms += rng.randrange(1000)
        known = rng.random() < 0.95
        prefix = rng.choice(prefixes) if known else rng.choice(UNKNOWN_CODES)
        digits = prefix + "".join(rng.choices("0123456789", k=max(2, 12 - len(prefix))))
        dst = _written(rng, digits)
        if known and rng.random() < 0.6:  # answered
            answer_ms = start_ms + rng.randint(2_000, 25_000)
            billsec = min(14_400, max(1, int(rng.lognormvariate(3.8, 1.2))))
            end_ms, cause = answer_ms + billsec * 1000 + rng.randrange(1000), 16
        else:
            answer_ms, billsec = 0, 0
            cause = rng.choice(UNANSWERED_CAUSES) if known else 1
            end_ms = start_ms + rng.randint(1_000, 40_000)
        provider = 5 if rng.random() < 0.95 else 0
        calls.append(Call(
            f"bench-{n}", start_ms, answer_ms, end_ms, cause == 21 or answer_ms > 0,
            (user := rng.choice(USERS)), user, 1, "37052000201", dst, "37052000201", "SIP/201-0001",
            f"{start_ms // 1000}.{n}", cause, billsec, (end_ms - start_ms) // 1000,
            provider, "Carrier A" if provider else ""))
    return calls


def _written(rng: random.Random, digits: str) -> str:
    """How a switch writes the number: mostly bare digits, sometimes +, 00 or national."""
    style = rng.random()
    if digits.startswith("370") and style < 0.5:
        return "8" + digits[3:]
    if style < 0.8:
        return digits
    return ("+" if style < 0.9 else "00") + digits


def build(calls: int, prefixes: int, seed: int) -> Workload:
    rng = random.Random(seed)
    retail_rates, buy_rates = build_rates(rng, prefixes)
    plan = NumberPlan(country_code="370", national_prefix="8")
    retail = Tariff.of(1, 1, "Retail", "USD", 0, retail_rates, numbers=plan,
                       calendar=Calendar("Europe/Vilnius", holidays=HOLIDAYS))
    buy = Tariff.of(2, 1, "Carrier A buy", "USD", 0, buy_rates, numbers=plan)
    data = ReferenceData()
    data.tariffs.add(retail)
    data.tariffs.add(buy)
    data.exchange.add(ExchangeRate("EUR", Decimal("0.92"), 0))
    data.accounts.update({a.user_id: a for a in (
        Account(2, "john", "John", "Smith", "user", 0, "USD", 1, "UTC"),
        Account(3, "ann", "Ann", "Jones", "user", 0, "EUR", 1, "UTC", Decimal(21)),
        Account(6, "res", "Re", "Seller", "reseller", 0, "USD", 2, "UTC"),
        Account(7, "sub", "Sub", "User", "user", 6, "USD", 1, "UTC"))})
    data.devices.update({user_id: Device(user_id, user_id, "SIP", f"desk-{user_id}",
                                         str(200 + user_id)) for user_id in set(USERS)})
    data.providers[5] = Provider(5, "Carrier A", 2)
    return Workload(data, retail, build_calls(rng, list(retail.rates), calls))


def rate_all(workload: Workload) -> float:
    """Seconds to rate every call once."""
    data = workload.data
    began = time.perf_counter()
    for call in workload.calls:
        rate_call(call, data)
    return time.perf_counter() - began


def match_all(workload: Workload) -> float:
    match = workload.retail.match
    numbers = [call.dst for call in workload.calls]
    began = time.perf_counter()
    for number in numbers:
        match(number)
    return time.perf_counter() - began


def best_of(runs: int, timed: Callable[[], float]) -> float:
    times = []
    for _ in range(runs):
        gc.collect()
        times.append(timed())
    return min(times)


def describe(workload: Workload) -> None:
    retail, calls = workload.retail, workload.calls
    windowed = sum(len(rates) > 1 for rates in retail.rates.values())
    tiered = sum(len(rates[0].tiers) == 3 and rates[0].tiers[0].increment == 60
                 for rates in retail.rates.values())
    print(f"tariff: {len(retail.rates):,} prefixes, {windowed:,} with time windows, "
          f"{tiered:,} tiered; longest prefix {retail.longest_prefix}")
    results = [rate_call(call, workload.data) for call in calls]
    cdrs = [r for r in results if isinstance(r, Cdr)]
    answered = sorted(c.billsec for c in cdrs if c.disposition == "ANSWERED")
    pieces = sum(c.rate_pieces.count('"minute"') > 1 for c in cdrs)
    print(f"calls: {len(calls):,}; {len(answered) / len(calls):.1%} answered, "
          f"{sum(not c.prefix for c in cdrs) / len(calls):.1%} to unknown numbers, "
          f"{(len(results) - len(cdrs)):,} rejected; billsec median {answered[len(answered) // 2]}"
          f" s, 90th percentile {answered[len(answered) * 9 // 10]} s; "
          f"{pieces:,} priced in more than one minute piece")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.rating", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=200_000)
    parser.add_argument("--prefixes", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3, help="best of this many runs")
    parser.add_argument("--profile", action="store_true",
                        help="also profile one run and print the top functions")
    parser.add_argument("--once", choices=("build", "rate"),
                        help="only build the workload, or build it and rate every call once, "
                             "untimed: for counting instructions under cachegrind")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    workload = build(args.calls, args.prefixes, args.seed)
    print(f"built in {time.perf_counter() - began:.1f} s")
    if args.once:
        if args.once == "rate":
            for call in workload.calls:
                rate_call(call, workload.data)
        return
    describe(workload)
    seconds = best_of(args.runs, lambda: rate_all(workload))
    lookups = len(workload.calls) / best_of(args.runs, lambda: match_all(workload))
    per_second = len(workload.calls) / seconds
    if args.profile:
        profile = cProfile.Profile()
        profile.runcall(rate_all, workload)
        pstats.Stats(profile, stream=sys.stdout).sort_stats("tottime").print_stats(15)
    print(f"prefix lookups: {lookups:,.0f} lookups/s")
    print(f"rate_call: {per_second:,.0f} calls/s, {1e6 / per_second:.2f} µs/call "
          f"(best of {args.runs}, one core)")
    print(f"bench rating: {per_second:.0f} calls/s")


if __name__ == "__main__":
    main()
