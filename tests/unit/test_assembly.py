from rating.call import Call
from streams.assembly import apply
from streams.events import CallAnswered, CallEnded, CallEvent, CallRinging, CallStarted

STARTED = CallStarted("c-1", 1_000, 2, 10, 1, "37052000201", "37061234567", "37052000201",
                      "SIP/201-0001", "1.000000", 5, "Carrier")
RINGING = CallRinging("c-1", 1_300)
ANSWERED = CallAnswered("c-1", 4_000)
ENDED = CallEnded("c-1", 24_500, 16, 20, 23)

FINISHED = Call("c-1", 1_000, 4_000, 24_500, True, 2, 10, 1, "37052000201", "37061234567",
                "37052000201", "SIP/201-0001", "1.000000", 16, 20, 23, 5, "Carrier")


def run(*events: CallEvent) -> tuple[list[Call], list[str], object]:
    state, calls, problems = None, [], []
    for event in events:
        step = apply(state, event)
        state = step.state
        if step.call:
            calls.append(step.call)
        if step.problem:
            problems.append(step.problem)
    return calls, problems, state


def test_a_full_call_becomes_one_finished_call_and_leaves_no_state() -> None:
    assert run(STARTED, RINGING, ANSWERED, ENDED) == ([FINISHED], [], None)


def test_repeated_events_before_the_end_change_nothing() -> None:
    assert run(STARTED, STARTED, RINGING, ANSWERED, RINGING, ANSWERED,
               CallAnswered("c-1", 9_000), ENDED) == ([FINISHED], [], None)


def test_ringing_and_answer_may_precede_the_start() -> None:
    assert run(RINGING, ANSWERED, STARTED, ENDED) == ([FINISHED], [], None)


def test_an_end_without_a_start_is_a_problem_not_a_call() -> None:
    calls, problems, state = run(ENDED)
    assert calls == [] and state is None
    assert problems == ["call_ended without call_started (start missing, "
                        "or a repeat after the call ended)"]


def test_a_whole_call_delivered_twice_gives_the_same_call_twice() -> None:
    calls, problems, state = run(STARTED, ANSWERED, ENDED, STARTED, ANSWERED, ENDED)
    assert calls[0] == calls[1] and problems == [] and state is None


def test_state_is_json_ready() -> None:
    import orjson

    state = apply(None, STARTED).state
    assert orjson.loads(orjson.dumps(state)) == state
