"""The Kafka broker restarted during a load, reconciled to the last digit (docs/faults.md).

Needs the broker that `python -m infra` runs here (it is stopped and started again): with
KAFKA_BOOTSTRAP pointing elsewhere, or a broker this machine did not start, the test is
skipped with the reason.
"""

from __future__ import annotations

import os
import time

import pytest

from cdrflow.settings import Settings
from infra.kafka import kafka_status, start_kafka, stop_kafka
from tests.integration.fault_load import Run, load_events
from tests.integration.support import Processes

pytestmark = pytest.mark.integration

CALLS = int(os.environ.get("CDRFLOW_FAULT_SERVICE_CALLS", "20000"))


def test_restarting_the_broker_loses_and_double_bills_nothing(
        settings: Settings, _base_settings: Settings, processes: Processes) -> None:
    if kafka_status(_base_settings).state != "running":
        pytest.skip("the broker is not one that `python -m infra` started here")
    run = Run(settings, processes, load_events(CALLS, seed=7))
    run.start()
    run.wait_projected(0.3)
    try:
        stop_kafka(_base_settings)
        time.sleep(5)
    finally:
        start_kafka(_base_settings)
    run.finish()
