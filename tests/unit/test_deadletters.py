import base64

import orjson

from streams.deadletters import DEAD_LETTER_SCHEMA, dead_letter


def test_a_dead_letter_keeps_the_original_bytes_and_says_where_they_came_from() -> None:
    raw = b'{"broken": \xff'
    key, value = dead_letter("not JSON: bad", "call-events", 3, 1042, b"c-1", raw)
    assert key == b"call-events:3:1042"
    assert orjson.loads(value) == {
        "schema": DEAD_LETTER_SCHEMA, "reason": "not JSON: bad", "topic": "call-events",
        "partition": 3, "offset": 1042, "key": "c-1", "value": '{"broken": \ufffd',
        "value_b64": base64.b64encode(raw).decode(),
    }


def test_extra_fields_and_empty_messages() -> None:
    _, value = dead_letter("empty message", "cdrs", 0, 7, None, None, call={"call_id": "x"})
    record = orjson.loads(value)
    assert (record["key"], record["value"], record["value_b64"]) == (None, None, None)
    assert record["call"] == {"call_id": "x"}


def test_the_readable_copy_is_cut_but_the_original_is_whole() -> None:
    raw = b"x" * 10_000
    record = orjson.loads(dead_letter("event larger than ...", "call-events", 0, 0, None, raw)[1])
    assert len(record["value"]) == 4096
    assert base64.b64decode(record["value_b64"]) == raw


def test_json_object_accepts_objects_only() -> None:
    import pytest

    from streams.deadletters import json_object

    assert json_object(b'{"a": 1}', "CDR") == {"a": 1}
    for raw, reason in [(b"[1]", "CDR is not a JSON object"), (None, "CDR is not a JSON object"),
                        (b"{oops", "unexpected character")]:
        with pytest.raises(ValueError, match=reason):
            json_object(raw, "CDR")
