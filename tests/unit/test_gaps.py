from streams.gaps import Positions


def test_the_first_record_of_a_generation_has_no_expected_offset() -> None:
    positions = Positions()
    assert positions.expected(0, 1) is None
    positions.handled(0, 1, 41)
    assert positions.expected(0, 1) == 42
    assert positions.expected(1, 1) is None  # another partition
    assert positions.expected(0, 2) is None  # a rebalance: ask the committed offset again


def test_an_older_record_again_does_not_move_the_expected_offset_back() -> None:
    positions = Positions()
    positions.handled(0, 1, 41)
    positions.handled(0, 1, 7)
    assert positions.expected(0, 1) == 42


def test_a_new_generation_starts_where_its_first_record_is() -> None:
    positions = Positions()
    positions.handled(0, 1, 41)
    positions.handled(0, 2, 12)
    assert (positions.expected(0, 1), positions.expected(0, 2)) == (None, 13)
