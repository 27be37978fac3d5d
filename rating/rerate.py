"""Re-rating: a past CDR priced again with the reference data in force now (docs/rerating.md).

MOR's CDR rerating: after a rate was corrected, the calls of a user, a period or a
tariff are priced again; the calls whose price changed get a new CDR version (the
higher version wins in `cdrs`), and a what-if run ("testing mode") only reports the
old and new totals. Calls the rater rejected (no CDR at all) are priced the same way
once the reference data is fixed, into their first CDR. This module decides and counts;
reading and publishing are the command's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import MISSING, dataclass, field, fields
from decimal import Decimal
from typing import Any

from rating.call import Call
from rating.cdr import Cdr
from rating.disposition import BUSY
from rating.rater import Rejection, rate_call
from rating.reference import ReferenceData

ZERO = Decimal(0)
# What a CDR charges or pays: when none of these changes, the call is not rewritten.
PRICE_FIELDS = (
    "currency", "user_rate", "user_price", "user_price_with_tax", "provider_rate",
    "provider_price", "reseller_id", "reseller_rate", "reseller_price", "did_inc_price",
    "did_price", "did_prov_price", "profit",
)
# The fields of a call that its CDR keeps under the same name: all but `ringing`
# (tests/unit/test_rerate.py holds every one of them stored).
CALL_FIELDS = tuple(f.name for f in fields(Call) if f.name != "ringing")


def call_of(cdr: Cdr) -> Call:
    """The call a CDR was rated from. Every field the rater reads is stored in the CDR
    except `ringing`, which only tells BUSY from FAILED for an unanswered call with
    cause 21; the stored disposition tells it instead."""
    return Call(ringing=cdr.disposition == BUSY,
                **{name: getattr(cdr, name) for name in CALL_FIELDS})


@dataclass(frozen=True, slots=True)
class Rerated:
    """One past CDR priced again: `new` is the next version to publish, None when the
    price did not change or the call cannot be priced now (`rejection`)."""

    old: Cdr
    new: Cdr | None = None
    rejection: Rejection | None = None

    @property
    def new_price(self) -> Decimal:
        """The user price the call has after the re-rating (its old one unless `new`)."""
        return self.new.user_price if self.new else self.old.user_price


def rerate(old: Cdr, data: ReferenceData) -> Rerated:
    result = rate_call(call_of(old), data, version=old.version + 1)
    if isinstance(result, Rejection):
        return Rerated(old, rejection=result)
    return Rerated(old, new=result) if price_changed(old, result) else Rerated(old)


def price_changed(old: Cdr, new: Cdr) -> bool:
    return any(getattr(old, name) != getattr(new, name) for name in PRICE_FIELDS)


@dataclass(slots=True)
class Totals:
    """The calls of one currency: how many of each outcome and their user prices (the
    amount balances are made of) before and after; a call that cannot be priced keeps
    its old price in both."""

    examined: int = 0
    changed: int = 0
    unchanged: int = 0
    failed: int = 0
    old_total: Decimal = ZERO
    new_total: Decimal = ZERO

    @property
    def difference(self) -> Decimal:
        return self.new_total - self.old_total


@dataclass(slots=True)
class RerateReport:
    """Totals per currency (a call counts in its old CDR's currency; should the user's
    currency have changed, its new price counts in the new one) and the first `keep`
    rejections (all of them are counted in `failed`)."""

    keep: int = 1_000
    totals: dict[str, Totals] = field(default_factory=dict)
    rejections: list[Rejection] = field(default_factory=list)

    def add(self, rerated: Rerated) -> None:
        old = rerated.old
        totals = self._of(old.currency)
        totals.examined += 1
        totals.old_total += old.user_price
        if rerated.rejection is not None:
            totals.failed += 1
            if len(self.rejections) < self.keep:
                self.rejections.append(rerated.rejection)
        elif rerated.new is None:
            totals.unchanged += 1
        else:
            totals.changed += 1
        new_currency = rerated.new.currency if rerated.new else old.currency
        self._of(new_currency).new_total += rerated.new_price

    def _of(self, currency: str) -> Totals:
        totals = self.totals.get(currency)
        if totals is None:
            totals = self.totals[currency] = Totals()
        return totals

    @property
    def examined(self) -> int:
        return sum(t.examined for t in self.totals.values())

    @property
    def changed(self) -> int:
        return sum(t.changed for t in self.totals.values())

    @property
    def failed(self) -> int:
        return sum(t.failed for t in self.totals.values())


# Rejected calls: the calls the worker could not price, re-rated once the reference data
# is fixed (docs/rerating.md, "Rejected calls"). A rejection is recorded in the dead
# letters as `rejected: <reason>: <detail>` with the whole call under `call`.
REJECTED = "rejected: "
_CALL_TYPES = {f.name: {"str": str, "int": int, "bool": bool}[str(f.type)]
               for f in fields(Call)}
_CALL_REQUIRED = frozenset(f.name for f in fields(Call) if f.default is MISSING)


@dataclass(frozen=True, slots=True)
class RejectedCall:
    """A call the rater rejected, as its dead letter records it; `rejected_ms` is when
    (the dead letter's timestamp): of several rejections of one call the latest counts."""

    call: Call
    reason: str
    detail: str
    rejected_ms: int

    @property
    def call_id(self) -> str:
        return self.call.call_id


def reason_parts(reason: str) -> tuple[str, str] | None:
    """`rejected: no_rate: tariff 1 ...` -> (`no_rate`, `tariff 1 ...`); None for a
    reason that is not a rejection."""
    if not reason.startswith(REJECTED):
        return None
    code, _, detail = reason[len(REJECTED):].partition(": ")
    return code, detail


def call_from_dict(data: object) -> Call:
    """The call a rejection carries (`dataclasses.asdict` of it); ValueError when a
    field is missing, unknown or of another type."""
    if not isinstance(data, dict):
        raise ValueError("the rejected call is not a JSON object")
    missing = sorted(_CALL_REQUIRED - data.keys())
    unknown = sorted(data.keys() - _CALL_TYPES.keys())
    if missing or unknown:
        raise ValueError(f"the rejected call has fields missing {missing} or unknown {unknown}")
    for name, value in data.items():
        wanted = _CALL_TYPES[name]
        if type(value) is not wanted or (isinstance(value, int) and value < 0):
            raise ValueError(f"the rejected call's {name} must be a {wanted.__name__}")
    return Call(**data)


def rejected_call(letter: dict[str, Any], rejected_ms: int) -> RejectedCall | None:
    """The rejected call of a dead letter; None for any other dead letter. ValueError for
    a rejection whose call cannot be read."""
    parts = reason_parts(str(letter.get("reason", "")))
    if parts is None:
        return None
    return RejectedCall(call_from_dict(letter.get("call")), *parts, rejected_ms=rejected_ms)


def latest_rejections(rejections: Iterable[RejectedCall]) -> list[RejectedCall]:
    """The latest rejection of each call (a call delivered again may be rejected again,
    perhaps for another reason), by call start and call id."""
    latest: dict[str, RejectedCall] = {}
    for rejection in rejections:
        known = latest.get(rejection.call_id)
        if known is None or rejection.rejected_ms >= known.rejected_ms:
            latest[rejection.call_id] = rejection
    return sorted(latest.values(), key=lambda r: (r.call.start_ms, r.call_id))


def rate_rejected(rejection: RejectedCall, data: ReferenceData) -> Cdr | Rejection:
    """The call priced with `data`: a rejected call has no CDR yet, so a rateable one
    becomes version 1, the CDR the worker would have made."""
    return rate_call(rejection.call, data, version=1)


@dataclass(slots=True)
class RejectedReport:
    """What re-rating rejected calls came to: the calls rated and their user prices per
    currency, and the calls still rejected per reason (the first `keep` of them listed)."""

    keep: int = 1_000
    rated: dict[str, int] = field(default_factory=dict)
    money: dict[str, Decimal] = field(default_factory=dict)
    still: dict[str, int] = field(default_factory=dict)
    rejections: list[Rejection] = field(default_factory=list)

    def add(self, result: Cdr | Rejection) -> None:
        if isinstance(result, Rejection):
            self.still[result.reason] = self.still.get(result.reason, 0) + 1
            if len(self.rejections) < self.keep:
                self.rejections.append(result)
            return
        self.rated[result.currency] = self.rated.get(result.currency, 0) + 1
        self.money[result.currency] = self.money.get(result.currency, ZERO) + result.user_price

    @property
    def examined(self) -> int:
        return self.rated_calls + self.still_rejected

    @property
    def rated_calls(self) -> int:
        return sum(self.rated.values())

    @property
    def still_rejected(self) -> int:
        return sum(self.still.values())
