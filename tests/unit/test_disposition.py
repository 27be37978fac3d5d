import pytest

from rating.call import Call
from rating.disposition import dispod, disposition


def call(cause: int, answered: bool = False, billsec: int = 0, ringing: bool = True) -> Call:
    return Call("c", 1_000, 2_000 if answered else 0, 9_000, ringing, 2, 10, 1,
                "37052000201", "37061234567", "37052000201", "SIP/201-1", "1.0",
                cause, billsec, 8)


# TEST-VECTORS.md: answer and billsec first, the Q.850 cause second
@pytest.mark.parametrize(("the_call", "expected"), [
    (call(16, answered=True, billsec=20), "ANSWERED"),
    (call(16, billsec=5), "ANSWERED"),  # billsec without an answer event
    (call(102, answered=True, billsec=3), "ANSWERED"),
    (call(16), "NO ANSWER"),
    (call(17), "BUSY"),
    (call(18), "NO ANSWER"),
    (call(19), "NO ANSWER"),
    (call(20), "NO ANSWER"),
    (call(31), "NO ANSWER"),
    (call(21, ringing=True), "BUSY"),  # the callee declined
    (call(21, ringing=False), "FAILED"),  # rejected by the network
    *[(call(c), "FAILED") for c in (1, 3, 28, 34, 38, 41, 42, 127, 102)],
    (call(58), "FAILED"),
])
def test_disposition(the_call: Call, expected: str) -> None:
    assert disposition(the_call) == expected


def test_dispod_shows_the_cause() -> None:
    assert dispod("ANSWERED", 16) == "ANSWERED(16)"
    assert dispod("NO ANSWER", 19) == "NO ANSWER(19)"
