"""The MOR API hash: SHA1 hex of the hashed parameters' values, then the secret key.

`u`, `p` and `hash` are never hashed. Only parameters present in the request are
concatenated. The documented order is accepted, and so is the order in which the
hashed parameters appear in the request (MOR's own hash page has said both).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence

NEVER_HASHED = frozenset({"u", "p", "hash"})


def mor_hash(values: Iterable[str], secret: str) -> str:
    """SHA1 hex digest of the concatenated values followed by the secret."""
    return hashlib.sha1(("".join(values) + secret).encode("utf-8")).hexdigest()


def expected_hashes(
    params: Mapping[str, str],
    request_order: Sequence[str],
    hashed: Sequence[str],
    secret: str,
) -> list[str]:
    """The hashes a client may send: documented order first, then request order.

    `params` holds the merged parameter values; `request_order` the parameter
    names in the order they first appear in the request.
    """
    documented = [name for name in hashed if name in params and name not in NEVER_HASHED]
    wanted = set(documented)
    in_request = [name for name in dict.fromkeys(request_order) if name in wanted]
    candidates = [mor_hash((params[name] for name in documented), secret)]
    if in_request != documented:
        candidates.append(mor_hash((params[name] for name in in_request), secret))
    return candidates


def hash_matches(given: str | None, candidates: Iterable[str]) -> bool:
    """Constant-time comparison of a client's hash with every candidate (case-insensitive)."""
    supplied = (given or "").strip().lower().encode("utf-8")
    matched = False
    for candidate in candidates:
        matched |= hmac.compare_digest(supplied, candidate.encode("utf-8"))
    return matched and bool(supplied)
