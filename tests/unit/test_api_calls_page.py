from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from api.calls_page import CallsPage, Shown, display_names, render_call, render_calls_page
from api.xml import escape
from projections.queries import Call, User

ADMIN = User(0, "admin", "", "", "admin", 0, "USD", "")
RESELLER = User(2, "res", "Reseller", "One", "reseller", 0, "USD", "")
BOB = User(5, "bob", "Bob", "Smith", "user", 2, "EUR", "Europe/Vilnius")


def parse(document: str | bytes) -> ET.Element:
    """Parse our own output (trusted): well-formedness is what the tests check."""
    return ET.fromstring(document)  # noqa: S314


ANSWERED = Call(
    call_id="c-1",
    calldate=datetime(2009, 1, 1, 22, 0, 1, tzinfo=UTC),
    calldate_ms=250,
    user_id=5,
    src="37046246362",
    dst="37063042438",
    clid='"Bob" <37046246362>',
    disposition="ANSWERED",
    hangup_cause=16,
    billsec=20,
    prefix="3706",
    destination="Lithuania MOB Lithuania mobile",
    server_id=1,
    did="37063042438",
    did_inc_price=Decimal("1.000000"),
    did_price=Decimal("1"),
    did_prov_price=Decimal("1.0"),
    provider_name="Test Provider",
    provider_rate=Decimal("0.000000"),
    provider_price=Decimal("1.000000"),
    reseller_id=2,
    reseller_rate=Decimal("0"),
    reseller_price=Decimal("0"),
    user_rate=Decimal("0.083333"),
    user_price=Decimal("2.000000"),
    profit=Decimal("4"),
)
MISSED = ANSWERED._replace(
    call_id="c-2",
    calldate=datetime(2009, 1, 2, 9, 30, 0, tzinfo=UTC),
    calldate_ms=0,
    clid="",
    disposition="NO ANSWER",
    hangup_cause=19,
    billsec=0,
    did="",
    did_inc_price=Decimal("0"),
    did_price=Decimal("0"),
    did_prov_price=Decimal("0"),
    provider_name="A & B Telecom",
    provider_price=Decimal("0"),
    reseller_id=0,
    user_rate=Decimal("1E+1"),
    user_price=Decimal("0"),
    profit=Decimal("-1.50"),
)


def page(calls: list[Call]) -> CallsPage:
    return CallsPage(
        caller=ADMIN,
        currency="EUR",
        period_start="2009-01-01 00:00:00",
        period_end="2009-01-02 23:59:59",
        shown=Shown(user="5", status="all", provider="4", did="all"),
        calls=calls,
        zone=ZoneInfo("Europe/Vilnius"),
        users={5: BOB, 2: RESELLER},
    )


HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<page>
 <pagename>Calls</pagename>
 <language>en</language>
 <error_msg></error_msg>
 <userid>0</userid>
 <username>admin</username>
 <total_calls>{total}</total_calls>
 <currency>EUR</currency>
 <calls_stat>
   <period>
     <period_start>2009-01-01 00:00:00</period_start>
     <period_end>2009-01-02 23:59:59</period_end>
   </period>
   <show_user>5</show_user>
   <show_device>all</show_device>
   <show_status>all</show_status>
   <show_provider>4</show_provider>
   <show_hgc>all</show_hgc>
   <show_did>all</show_did>
"""

TWO_CALLS = (
    HEAD.format(total=2)
    + """   <calls>
     <call>
       <calldate2>2009-01-02 00:00:01</calldate2>
       <clid>&quot;Bob&quot; &lt;37046246362&gt;</clid>
       <destination>Lithuania MOB Lithuania mobile</destination>
       <did>37063042438</did>
       <did_inc_price>1.0</did_inc_price>
       <did_price>1.0</did_price>
       <did_prov_price>1.0</did_prov_price>
       <dispod>ANSWERED(16)</dispod>
       <dst>37063042438</dst>
       <nice_billsec>20.0</nice_billsec>
       <nice_reseller>Reseller One</nice_reseller>
       <prefix>3706</prefix>
       <profit>4.0</profit>
       <provider_name>Test Provider</provider_name>
       <provider_price>1.0</provider_price>
       <provider_rate>0.0</provider_rate>
       <reseller_price>0.0</reseller_price>
       <reseller_rate>0.0</reseller_rate>
       <server_id>1</server_id>
       <src>37046246362</src>
       <user>Bob Smith</user>
       <user_price>2.0</user_price>
       <user_rate>0.083333</user_rate>
     </call>
     <call>
       <calldate2>2009-01-02 11:30:00</calldate2>
       <clid></clid>
       <destination>Lithuania MOB Lithuania mobile</destination>
       <did></did>
       <did_inc_price>0.0</did_inc_price>
       <did_price>0.0</did_price>
       <did_prov_price>0.0</did_prov_price>
       <dispod>NO ANSWER(19)</dispod>
       <dst>37063042438</dst>
       <nice_billsec>0.0</nice_billsec>
       <nice_reseller></nice_reseller>
       <prefix>3706</prefix>
       <profit>-1.5</profit>
       <provider_name>A &amp; B Telecom</provider_name>
       <provider_price>0.0</provider_price>
       <provider_rate>0.0</provider_rate>
       <reseller_price>0.0</reseller_price>
       <reseller_rate>0.0</reseller_rate>
       <server_id>1</server_id>
       <src>37046246362</src>
       <user>Bob Smith</user>
       <user_price>0.0</user_price>
       <user_rate>10.0</user_rate>
     </call>
   </calls>
 </calls_stat>
</page>
"""
)

EMPTY = (
    HEAD.format(total=0)
    + """   <calls></calls>
 </calls_stat>
</page>
"""
)

CALL_ELEMENTS = [
    "calldate2", "clid", "destination", "did", "did_inc_price", "did_price", "did_prov_price",
    "dispod", "dst", "nice_billsec", "nice_reseller", "prefix", "profit", "provider_name",
    "provider_price", "provider_rate", "reseller_price", "reseller_rate", "server_id", "src",
    "user", "user_price", "user_rate",
]  # fmt: skip


def test_page_with_two_calls_is_byte_exact() -> None:
    assert render_calls_page(page([ANSWERED, MISSED])) == TWO_CALLS


def test_empty_page_keeps_the_calls_element() -> None:
    assert render_calls_page(page([])) == EMPTY


def test_every_call_has_the_example_elements_in_order() -> None:
    root = parse(render_calls_page(page([ANSWERED, MISSED])).encode("utf-8"))
    calls = root.findall("./calls_stat/calls/call")
    assert len(calls) == 2
    for call in calls:
        assert [child.tag for child in call] == CALL_ELEMENTS


def test_user_falls_back_to_username_and_unknown_users_render_empty() -> None:
    nameless = replace(BOB, first_name=" ", last_name="")
    text = render_calls_page(replace(page([ANSWERED]), users={5: nameless}))
    assert "<user>bob</user>" in text
    assert "<nice_reseller></nice_reseller>" in text
    text = render_calls_page(replace(page([ANSWERED]), users={}))
    assert "<user></user>" in text


def test_control_characters_from_the_database_are_stripped() -> None:
    dirty = ANSWERED._replace(clid="a\x00b\x1bc", src="1\x07")
    text = render_calls_page(page([dirty]))
    assert "<clid>abc</clid>" in text and "<src>1</src>" in text
    parse(text.encode("utf-8"))


TEXT_FIELDS = ("src", "dst", "clid", "disposition", "prefix", "destination", "did",
               "provider_name")
TEXTS = st.text(st.sampled_from(["a", "7", " ", "&", "<", ">", '"', "'", "\x00", "\x1b", "\t",
                                 "\ud800", "\ufffe", "é", "\u20ac"]), max_size=6)


def element_text(call: Call, name: str) -> str:
    """What `render_call` writes inside `<name>` for one text field."""
    return render_call(call, UTC, {}).split(f"<{name}>", 1)[1].split(f"</{name}>", 1)[0]


@settings(max_examples=300)
@given(st.fixed_dictionaries({name: TEXTS for name in TEXT_FIELDS}))
def test_each_text_is_escaped_as_escape_does(texts: dict[str, str]) -> None:
    call = ANSWERED._replace(**texts)
    for name in TEXT_FIELDS:
        shown = element_text(call, "dispod").removesuffix("(16)") if name == "disposition" \
            else element_text(call, name)
        assert shown == escape(texts[name]), name


def test_display_names_are_escaped_nice_names() -> None:
    odd = replace(BOB, first_name="A&B", last_name="<C>")
    assert display_names({5: odd, 0: ADMIN}) == {5: "A&amp;B &lt;C&gt;", 0: "admin"}
