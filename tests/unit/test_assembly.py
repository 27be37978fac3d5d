from dataclasses import replace

from rating.call import MAX_DURATION, Call
from streams.assembly import ENDED_WITHOUT_START, ORPHAN, Limits, State, Step, apply, expire
from streams.events import CallAnswered, CallEnded, CallRinging, CallStarted, CallStep

STARTED = CallStarted("c-1", 1_000, 2, 10, 1, "37052000201", "37061234567", "37052000201",
                      "SIP/201-0001", "1.000000", 5, "Carrier")
RINGING = CallRinging("c-1", 1_300)
ANSWERED = CallAnswered("c-1", 4_000)
ENDED = CallEnded("c-1", 24_500, 16, 20, 23)

FINISHED = Call("c-1", 1_000, 4_000, 24_500, True, 2, 10, 1, "37052000201", "37061234567",
                "37052000201", "SIP/201-0001", "1.000000", 16, 20, 23, 5, "Carrier")
LIMITS = Limits(max_call_ms=60_000, late_ms=10_000)
LATE = "late {}: the call was already closed"


def run(*events: CallStep) -> tuple[list[Call], list[str], State | None]:
    """The events in order, each at the next offset (0, 1, ...) and arriving at its time."""
    state: State | None = None
    calls, problems = [], []
    for offset, event in enumerate(events):
        step = apply(state, event, offset=offset)
        state = step.state
        if step.call:
            calls.append(step.call)
        if step.problem:
            problems.append(step.problem)
    return calls, problems, state


def closed(state: State | None) -> tuple[int, int | None]:
    """(when, at which offset) a closed call's marker says it closed."""
    assert state is not None and "closed_ms" in state, state
    return state["closed_ms"], state["offset"]


def live(*events: CallStep) -> State:
    state = None
    for offset, event in enumerate(events):
        state = apply(state, event, offset=offset).state
    assert state is not None
    return state


def test_a_full_call_becomes_one_finished_call_and_is_remembered_as_closed() -> None:
    calls, problems, state = run(STARTED, RINGING, ANSWERED, ENDED)
    assert (calls, problems, closed(state)) == ([FINISHED], [], (24_500, 3))


def test_repeated_events_before_the_end_change_nothing() -> None:
    calls, problems, _ = run(STARTED, STARTED, RINGING, ANSWERED, RINGING, ANSWERED,
                             CallAnswered("c-1", 9_000), ENDED)
    assert (calls, problems) == ([FINISHED], [])


def test_ringing_and_answer_may_precede_the_start() -> None:
    assert run(RINGING, ANSWERED, STARTED, ENDED)[:2] == ([FINISHED], [])


def test_an_end_before_its_start_waits_for_the_start() -> None:
    calls, problems, state = run(ENDED, RINGING, ANSWERED, STARTED)
    # closed when the start arrived (at its own time here: 1,000), at the start's offset
    assert (calls, problems, closed(state)) == ([FINISHED], [], (1_000, 3))
    calls, problems, _ = run(ENDED, CallEnded("c-1", 30_000, 16, 25, 29), STARTED)
    assert (calls, problems) == ([replace(FINISHED, answer_ms=0, ringing=False)], [])


def test_a_closed_call_is_remembered_from_when_its_end_arrived() -> None:
    state = apply(live(STARTED, ANSWERED), ENDED, arrived_ms=999_000, offset=2).state
    assert closed(state) == (999_000, 2)
    assert state is not None
    assert expire(state, 999_000 + 9_999, LIMITS, offset=3) == Step(state, changed=False)
    assert expire(state, 999_000 + 10_000, LIMITS, offset=3) == Step(None)


def test_an_end_before_the_answer_rates_from_billsec_and_the_answer_is_late() -> None:
    calls, problems, _ = run(STARTED, ENDED, ANSWERED)
    assert calls == [replace(FINISHED, answer_ms=0, ringing=False)]
    assert problems == [LATE.format("call_answered")]


def test_every_event_after_the_close_is_late_and_rates_nothing() -> None:
    calls, problems, state = run(STARTED, ANSWERED, ENDED, STARTED, RINGING, ANSWERED, ENDED)
    assert calls == [replace(FINISHED, ringing=False)] and closed(state) == (24_500, 2)
    assert problems == [LATE.format(name) for name in
                        ("call_started", "call_ringing", "call_answered", "call_ended")]


def test_a_late_event_leaves_the_state_as_it_was() -> None:
    state = live(STARTED, ANSWERED, ENDED)
    assert apply(state, ENDED, offset=7) == Step(state, problem=LATE.format("call_ended"),
                                                 changed=False)
    # without an offset (not from Kafka) nothing tells a redelivery: late
    assert apply(state, ENDED).problem == LATE.format("call_ended")


def test_a_redelivery_after_a_restart_finishes_the_call_again_and_nothing_else() -> None:
    # the table's changelog was ahead of the committed offsets: the worker sees the
    # call's events again, at their old offsets, after the marker
    state = live(STARTED, RINGING, ANSWERED, ENDED)
    for offset, event in enumerate((STARTED, RINGING, ANSWERED)):
        assert apply(state, event, offset=offset) == Step(state, changed=False)
    # the CDR of the first close may have been lost with the crash: the same call again
    assert apply(state, ENDED, offset=3) == Step(state, call=FINISHED, changed=False)


def test_a_call_closed_by_a_sweep_is_finished_again_by_the_same_sweep() -> None:
    first = expire(live(STARTED, ANSWERED), 70_000, LIMITS, offset=5)
    assert first.state is not None and first.call is not None
    assert expire(first.state, 70_000, LIMITS, offset=5) == Step(
        first.state, call=first.call, changed=False)
    assert expire(first.state, 69_000, LIMITS, offset=4) == Step(first.state, changed=False)


def test_a_live_call_is_kept_until_the_longest_call_is_over() -> None:
    state = live(STARTED, ANSWERED)
    assert expire(state, 1_000 + 59_999, LIMITS) == Step(state, changed=False)


def test_an_answered_call_without_end_is_closed_at_the_longest_call_and_flagged() -> None:
    step = expire(live(STARTED, RINGING, ANSWERED), 1_000 + 60_000 + 5, LIMITS, offset=9)
    assert step.call == Call(
        "c-1", 1_000, 4_000, 61_000, True, 2, 10, 1, "37052000201", "37061234567",
        "37052000201", "SIP/201-0001", "1.000000", 0, 57, 60, 5, "Carrier",
        closed_by=MAX_DURATION)
    assert closed(step.state) == (61_005, 9)  # the sweep's time and offset


def test_an_unanswered_call_without_end_is_closed_with_no_billable_seconds() -> None:
    step = expire(live(STARTED), 500_000, LIMITS)
    assert step.call is not None
    assert (step.call.answer_ms, step.call.billsec, step.call.duration, step.call.end_ms,
            step.call.closed_by) == (0, 0, 60, 61_000, MAX_DURATION)


def test_an_answer_after_the_longest_call_is_not_billed() -> None:
    step = expire(live(STARTED, CallAnswered("c-1", 70_000)), 80_000, LIMITS)
    assert step.call is not None and (step.call.answer_ms, step.call.billsec) == (0, 0)


def test_the_real_end_after_a_forced_close_is_late() -> None:
    forced = expire(live(STARTED, ANSWERED), 61_000, LIMITS, offset=2).state
    step = apply(forced, CallEnded("c-1", 90_000, 16, 86, 89), offset=3)
    assert (step.call, step.problem, step.state) == (None, LATE.format("call_ended"), forced)


def test_a_closed_call_is_forgotten_after_the_late_period() -> None:
    state = live(STARTED, ANSWERED, ENDED)
    assert expire(state, 24_500 + 9_999, LIMITS, offset=3) == Step(state, changed=False)
    assert expire(state, 24_500 + 10_000, LIMITS, offset=3) == Step(None)


def test_an_end_whose_start_never_comes_is_given_up_with_a_reason() -> None:
    state = live(ENDED)
    assert expire(state, 24_500 + 9_999, LIMITS) == Step(state, changed=False)
    assert expire(state, 24_500 + 10_000, LIMITS) == Step(None, problem=ENDED_WITHOUT_START)


def test_ringing_and_answer_whose_start_never_comes_are_given_up() -> None:
    state = live(RINGING, ANSWERED)  # first seen at 1,300
    assert expire(state, 11_300, LIMITS) == Step(None, problem=ORPHAN)


def test_a_whole_call_delivered_twice_rates_once() -> None:
    calls, problems, _ = run(STARTED, ANSWERED, ENDED, STARTED, ANSWERED, ENDED)
    assert calls == [replace(FINISHED, ringing=False)]
    assert problems == [LATE.format(name)
                        for name in ("call_started", "call_answered", "call_ended")]


def test_state_is_json_ready() -> None:
    import orjson

    for state in (live(STARTED), live(ENDED), live(STARTED, ANSWERED, ENDED)):
        assert orjson.loads(orjson.dumps(state)) == state


def test_only_ringing_leaves_what_active_calls_show_unchanged() -> None:
    # active calls show a started call as ringing already: the worker sends nothing then
    started = apply(None, STARTED)
    ringing = apply(started.state, RINGING)
    answered = apply(ringing.state, ANSWERED)
    assert (started.shown, ringing.shown, answered.shown) == (True, False, True)
    assert ringing.changed and ringing.state is not None and ringing.state["ringing"] is True


def test_the_started_event_is_kept_field_by_field() -> None:
    state = apply(None, STARTED).state
    assert state is not None
    assert state["started"] == {
        "call_id": "c-1", "ts_ms": 1_000, "user_id": 2, "device_id": 10, "server_id": 1,
        "src": "37052000201", "dst": "37061234567", "clid": "37052000201",
        "channel": STARTED.channel, "uniqueid": STARTED.uniqueid, "provider_id": 5,
        "provider_name": "Carrier", "did": ""}
