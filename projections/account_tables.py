"""Account events into rows of the account tables: one function per record type.

Each feature module of projections/ contributes its table's columns and a `rows`
function; a record type not listed here has no table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from projections import (
    callflow,
    clis,
    credit_notes,
    devices,
    invoices,
    missed_calls,
    payments,
    permission_groups,
    personal_details,
    phonebook,
    providers,
    subscriptions,
    webhooks,
)
from projections.rows import DEVICE_COLUMNS, USER_COLUMNS, device_row, user_row
from rating.reference import Account, Device, Did, Provider
from streams.callflow_events import Callflow
from streams.cli_events import Cli
from streams.device_events import DeviceRegistered
from streams.invoice_events import CreditNote, Invoice, InvoicePayment
from streams.missed_call_events import MissedCallMark
from streams.payment_events import Payment
from streams.permission_group_events import PermissionGroup
from streams.personal_details_events import PersonalDetails
from streams.phonebook_events import PhonebookEntry
from streams.subscription_events import Service, Subscription
from streams.webhook_events import CallEndWebhook

Rows = Iterable[tuple[str, tuple[Any, ...]]]


def _user(account: Account, version: int) -> Iterator[tuple[str, tuple[Any, ...]]]:
    yield "users", user_row(account, version)


def _device(device: Device, version: int) -> Iterator[tuple[str, tuple[Any, ...]]]:
    yield "devices", device_row(device, version)


ROWS: dict[type, Callable[[Any, int], Rows]] = {
    Account: _user,
    Device: _device,
    PhonebookEntry: phonebook.rows,
    Callflow: callflow.rows,
    Did: callflow.did_rows,
    Provider: providers.rows,
    Cli: clis.rows,
    DeviceRegistered: devices.registration_rows,
    PermissionGroup: permission_groups.rows,
    PersonalDetails: personal_details.rows,
    Payment: payments.rows,
    Service: subscriptions.service_rows,
    Subscription: subscriptions.subscription_rows,
    Invoice: invoices.rows,
    InvoicePayment: invoices.payment_rows,
    CreditNote: credit_notes.rows,
    MissedCallMark: missed_calls.rows,
    CallEndWebhook: webhooks.rows,
}
TABLES: dict[str, tuple[str, ...]] = {
    "users": USER_COLUMNS,
    "devices": DEVICE_COLUMNS,
    phonebook.TABLE: phonebook.COLUMNS,
    callflow.TABLE: callflow.COLUMNS,
    callflow.DIDS_TABLE: callflow.DIDS_COLUMNS,
    providers.TABLE: providers.COLUMNS,
    clis.TABLE: clis.COLUMNS,
    devices.REGISTRATIONS: devices.REGISTRATION_COLUMNS,
    permission_groups.TABLE: permission_groups.COLUMNS,
    personal_details.TABLE: personal_details.COLUMNS,
    payments.TABLE: payments.COLUMNS,
    subscriptions.SERVICES: subscriptions.SERVICE_COLUMNS,
    subscriptions.SUBSCRIPTIONS: subscriptions.SUBSCRIPTION_COLUMNS,
    invoices.TABLE: invoices.COLUMNS,
    credit_notes.TABLE: credit_notes.COLUMNS,
    missed_calls.TABLE: missed_calls.COLUMNS,
    webhooks.TABLE: webhooks.COLUMNS,
}


def rows_of(record: object, version: int) -> Rows:
    """The rows an account event's record projects to (none for untabled records)."""
    to_rows = ROWS.get(type(record))
    return to_rows(record, version) if to_rows is not None else ()
