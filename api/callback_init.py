"""(issue 7, being built)"""

from __future__ import annotations

from api.methods import MorMethod

METHODS: list[MorMethod] = []
