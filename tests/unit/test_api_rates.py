"""The rates pages' rules without ClickHouse: grouping, prices, VAT, currencies, CSV."""

from __future__ import annotations

from decimal import Decimal

from api.rates import (
    Prices,
    RateLine,
    available,
    destinations,
    factor,
    percent,
    rate_lines,
    rates_csv,
    rates_page,
)
from projections.queries import User
from rating.tariff import Destination, Rate, Tariff, Tier

D = Decimal


def rate(prefix: str, name: str, direction: str, kind: str, price: str, **window: int | str
         ) -> Rate:
    return Rate.wholesale(Destination(prefix, name, direction, kind), D(price), **window)


TARIFF = Tariff.of(1, 2, "Retail", "USD", 0, [
    rate("370", "Lithuania", "Lithuania", "fixed", "0.05"),
    rate("3706", "Lithuania MOB", "Lithuania", "mobile", "0.12", days="work",
         start_second=28800, end_second=64800),
    rate("3706", "Lithuania MOB", "Lithuania", "mobile", "0.06", days="work",
         start_second=0, end_second=28800),
    rate("3705", "Lithuania Vilnius", "Lithuania", "fixed", "0.07"),
    rate("44", "United Kingdom", "", "", "0.04"),
    Rate(Destination("900", "Premium", "Lithuania", "special"),
         (Tier(0, None, D("0.5"), 1, "event"), Tier(0, 60, D("1.0"), 60),
          Tier(60, None, D("0.5"), 1))),
])
USER = User(2, "john", "John", "Smith", "user", 0, "USD", "UTC", tax_percent=D("21.0000"))


def test_one_line_per_direction_and_type_at_its_highest_price() -> None:
    assert rate_lines(TARIFF, Prices(D(1), D(21))) == [
        RateLine("Lithuania", "FIX", D("0.070000"), D("0.084700")),
        RateLine("Lithuania", "MOB", D("0.120000"), D("0.145200")),
        RateLine("Lithuania", "SPEC", D("1.000000"), D("1.210000")),
        RateLine("United Kingdom", "", D("0.040000"), D("0.048400")),  # no direction: the name
    ]


def test_prices_convert_then_add_vat_rounded_half_up_to_6_decimals() -> None:
    prices = Prices(D("0.92") / D(1), D(15))
    assert prices.cost(D("0.015")) == D("0.013800")
    assert prices.with_vat(D("0.0000005")) == D("0.000001")
    assert Prices(D(1) / D(3), D(0)).cost(D(1)) == D("0.333333")


def test_factor_and_available_currencies() -> None:
    rates = {"USD": D(1), "EUR": D("0.5"), "GBP": D("0.8")}
    assert factor(rates, "USD", "EUR") == D("0.5")
    assert factor(rates, "EUR", "GBP") == D("1.6")
    assert factor(rates, "EUR", "EUR") == 1
    assert factor(rates, "USD", "JPY") is None
    assert available(rates) == ["USD", "EUR", "GBP"]
    assert [percent(D(p)) for p in ("15.0000", "0.0000", "21.5000", "100.0000")] == [
        "15", "0", "21.5", "100"]


def test_destinations_of_the_group_of_a_prefix() -> None:
    found = destinations(TARIFF, "3705")
    assert found is not None
    group, members = found
    assert group == ("Lithuania", "FIX") and [r.prefix for r in members] == ["370", "3705"]
    assert destinations(TARIFF, "37") is None


def test_rates_page_when_the_user_has_no_tariff() -> None:
    assert rates_page(USER, "USD", ["USD"], []) == (
        '<?xml version="1.0" encoding="UTF-8"?>\n<page>\n <pagename>Payments</pagename>\n'
        " <language>en</language>\n <userid>2</userid>\n <currency>USD</currency>\n"
        " <vat_percent>21</vat_percent>\n <aval_currencies>\n  <currency>USD</currency>\n"
        " </aval_currencies>\n <rates></rates>\n</page>\n")


def test_csv_has_every_rate_and_window_with_exact_prices() -> None:
    lines = rates_csv(TARIFF, Prices(D("0.5"), D(21)), "EUR").split("\r\n")
    assert lines[0] == ("prefix,destination,direction,kind,group,daytype,start_time,end_time,"
                        "rate,rate_with_vat,connection_fee,increment,min_time,grace_time,tiers,"
                        "currency")
    assert lines[1:] == [
        "370,Lithuania,Lithuania,fixed,,,00:00:00,23:59:59,0.025,0.03025,0.0,1,0,0,,EUR",
        "3705,Lithuania Vilnius,Lithuania,fixed,,,00:00:00,23:59:59,0.035,0.04235,0.0,1,0,0,,EUR",
        "3706,Lithuania MOB,Lithuania,mobile,,WD,00:00:00,07:59:59,0.03,0.0363,0.0,1,0,0,,EUR",
        "3706,Lithuania MOB,Lithuania,mobile,,WD,08:00:00,17:59:59,0.06,0.0726,0.0,1,0,0,,EUR",
        "44,United Kingdom,,,,,00:00:00,23:59:59,0.02,0.0242,0.0,1,0,0,,EUR",
        "900,Premium,Lithuania,special,,,00:00:00,23:59:59,0.5,0.605,0.25,60,0,0,"
        "0@0.25!;0-60@0.5/60;60-@0.25/1,EUR",
        "",
    ]
