"""Number normalisation: what a switch sends, turned into E.164 digits for prefix matching."""

from __future__ import annotations

import re
from dataclasses import dataclass

_NOT_DIGIT = re.compile("[^0-9]")  # anything but the ASCII digits (isdigit() takes ² too)


@dataclass(frozen=True, slots=True)
class NumberPlan:
    """How numbers are written where a tariff is used.

    `country_code` turns national numbers (`national_prefix` + subscriber number) into
    international ones; empty means numbers arrive international already.
    """

    country_code: str = ""
    national_prefix: str = "0"
    international_prefix: str = "00"

    def interned(self) -> NumberPlan:
        """The one instance of this plan, so that tariffs sharing it can tell by `is` that
        a number normalised for one of them is normalised for the other."""
        return _PLANS.setdefault(self, self)

    def normalise(self, number: str) -> str:
        """E.164 digits without `+`: `+370 612-34567`, `00370...` and, in Lithuania,
        `8612...` with national prefix 8 all become `37061234567`."""
        text = number.strip()
        international = text.startswith("+")
        digits = text if text.isascii() and text.isdigit() else _NOT_DIGIT.sub("", text)
        if international:
            return digits
        if self.international_prefix and digits.startswith(self.international_prefix):
            return digits[len(self.international_prefix):]
        if (self.country_code and self.national_prefix
                and digits.startswith(self.national_prefix)):
            return self.country_code + digits[len(self.national_prefix):]
        return digits


_PLANS: dict[NumberPlan, NumberPlan] = {}
