"""Every MOR API method declared with `api.methods.MorMethod`, in one list (issue 7's).

The methods built before the catalogue (user_calls_get, active_calls_get,
device_callflow_update, call_quality_get, rejected_calls_get) keep their own routes.
"""

from __future__ import annotations

from api import (
    aggregate,
    balance,
    callback_init,
    device_methods,
    dids,
    invoice_methods,
    local_calls,
    payment_methods,
    phonebook_methods,
    quickstats,
    registration,
    subscription_methods,
    system_version,
    tariff_methods,
    users,
)
from api.methods import MorMethod

METHODS: list[MorMethod] = [
    *aggregate.METHODS,
    *quickstats.METHODS,
    *local_calls.METHODS,
    *users.METHODS,
    *registration.METHODS,
    *balance.METHODS,
    *system_version.METHODS,
    *device_methods.METHODS,
    *phonebook_methods.METHODS,
    *dids.METHODS,
    *tariff_methods.METHODS,
    *callback_init.METHODS,
    *payment_methods.METHODS,
    *invoice_methods.METHODS,
    *subscription_methods.METHODS,
]
