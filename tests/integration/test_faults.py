"""Kill -9 of the worker during a load, reconciled to the last digit (docs/faults.md).

`CDRFLOW_FAULT_CALLS` calls (100,000 by default) go through the worker and the sink while
the worker is killed with SIGKILL at three random moments and started again.
"""

from __future__ import annotations

import os
import random
import time

import pytest

from cdrflow.settings import Settings
from tests.integration.fault_load import Run, load_events
from tests.integration.support import Processes

pytestmark = pytest.mark.integration

CALLS = int(os.environ.get("CDRFLOW_FAULT_CALLS", "100000"))
SEED = 6


def test_killing_the_worker_loses_and_double_bills_nothing(
        settings: Settings, processes: Processes) -> None:
    run = Run(settings, processes, load_events(CALLS, SEED))
    run.start()
    rng = random.Random(SEED)
    for share in sorted(rng.uniform(0.05, 0.9) for _ in range(3)):
        run.wait_projected(share)
        time.sleep(rng.uniform(0, 1))
        processes.kill("worker")  # SIGKILL: no flush, no commit
        processes.start("worker")
    run.finish()
