from decimal import Decimal
from itertools import islice

import pytest

from rating.cdr import Cdr
from streams.call_end import UrlBook, backoff, call_params, request_url
from streams.webhook_events import CallEndWebhook

CDR = Cdr("c-1", 1, 1_795_168_800_250, 1_795_168_805_000, 1_795_168_825_400, 2, 10, 1,
          "1795168800.250000", "SIP/201-1", "+37052000201", "37061234567",
          '"John & Co" <201>', "ANSWERED", 16, 25, 20, 20, "3706", "Lithuania MOB", 1, 1,
          "USD", Decimal("0.25"), Decimal("0.083333"), did="37052000999")

QUERY = (
    "calldate=2026-11-20%2010%3A00%3A00&clid=%22John%20%26%20Co%22%20%3C201%3E"
    "&src=%2B37052000201&dst=37061234567&duration=25&billsec=20&disposition=ANSWERED"
    "&hangupcause=16&uniqueid=1795168800.250000&src_device_id=10&user_id=2&prefix=3706"
    "&user_rate=0.25&user_billsec=20&user_price=0.083333&currency=USD&did=37052000999"
    "&call_id=c-1&answer_time=2026-11-20%2010%3A00%3A05&end_time=2026-11-20%2010%3A00%3A25"
)


@pytest.mark.parametrize(("url", "expected"), [
    ("http://crm.example/hook", "http://crm.example/hook?" + QUERY),
    ("https://crm.example/hook?api_key=s3cret", "https://crm.example/hook?api_key=s3cret&" + QUERY),
    ("http://crm.example/hook?", "http://crm.example/hook?" + QUERY),
    ("http://crm.example/hook?a=1&", "http://crm.example/hook?a=1&" + QUERY),
])
def test_the_call_goes_in_the_query_string(url: str, expected: str) -> None:
    assert request_url(url, call_params(CDR)) == expected


def test_an_unanswered_call_has_no_answer_time_and_money_is_never_exponent() -> None:
    params = dict(call_params(Cdr(
        "c-2", 1, 1_795_168_800_000, 0, 1_795_168_810_000, 2, 10, 1, "u", "ch", "1", "2", "",
        "NO ANSWER", 19, 10, 0, 0, "", "", 1, 1, "EUR", Decimal("0"), Decimal("0E-6"))))
    assert (params["answer_time"], params["user_price"], params["disposition"]) == \
        ("", "0.000000", "NO ANSWER")


def book(*hooks: tuple[int, int, str, int]) -> UrlBook:
    urls = UrlBook()
    for user_id, device_id, url, at in hooks:
        urls.apply(CallEndWebhook(user_id, device_id, url, at))
    return urls


def test_a_device_url_wins_over_its_users_and_removing_it_falls_back() -> None:
    urls = book((2, 0, "http://user/", 100), (2, 10, "http://device/", 200),
                (2, 10, "", 300), (2, 0, "", 400))
    assert [urls.url_at(2, 10, at) for at in (99, 100, 199, 200, 299, 300, 400)] == [
        "", "http://user/", "http://user/", "http://device/", "http://device/",
        "http://user/", ""]
    assert urls.url_at(2, 11, 250) == "http://user/"  # another device of the user
    assert urls.url_at(3, 10, 250) == ""  # another user's device 10
    assert urls.current(2, 10) == ""
    assert urls.first_ms == 100


def test_a_setting_never_goes_back_in_time() -> None:
    urls = book((2, 10, "http://a/", 500), (2, 10, "http://b/", 400))
    assert (urls.url_at(2, 10, 450), urls.url_at(2, 10, 500)) == ("", "http://b/")


def test_an_empty_book_has_no_first_moment() -> None:
    assert book((2, 10, "", 5)).first_ms is None


def test_retries_wait_half_a_second_doubling_up_to_the_maximum() -> None:
    assert list(islice(backoff(30.0), 9)) == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]
    assert list(islice(backoff(0.2), 3)) == [0.2, 0.2, 0.2]
