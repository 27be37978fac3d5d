"""ClickHouse stopped for 60 seconds during a load, reconciled to the last digit
(docs/faults.md): the sink retries with backoff, commits nothing it did not write, and
catches up.

Needs the ClickHouse server that `python -m infra` runs here (it is stopped and started
again): with CLICKHOUSE_URL pointing elsewhere, or a server this machine did not start,
the test is skipped with the reason.
"""

from __future__ import annotations

import os
import time

import pytest

from cdrflow.settings import Settings
from infra.clickhouse import clickhouse_status, start_clickhouse, stop_clickhouse
from tests.integration.fault_load import Run, load_events
from tests.integration.support import Processes

pytestmark = pytest.mark.integration

CALLS = int(os.environ.get("CDRFLOW_FAULT_SERVICE_CALLS", "20000"))
OUTAGE_S = 60


def test_a_clickhouse_outage_loses_and_double_bills_nothing(
        settings: Settings, _base_settings: Settings, processes: Processes) -> None:
    if clickhouse_status(_base_settings).state != "running":
        pytest.skip("ClickHouse is not a server that `python -m infra` started here")
    run = Run(settings, processes, load_events(CALLS, seed=8))
    run.start()
    run.wait_projected(0.2)
    try:
        stop_clickhouse(_base_settings)
        time.sleep(OUTAGE_S)
        processes.check_alive()  # the sink waits; it does not crash
    finally:
        start_clickhouse(_base_settings)
    run.finish()
