"""`python -m infra start|stop|restart|status [kafka|clickhouse|all]`.

Exit codes: 0 ok; 1 a start/stop failed (the message says why); 3 `status` found a
requested service not running (like LSB init scripts).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from cdrflow.settings import Settings
from infra import services


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m infra",
        description="Run the local Kafka (KRaft) and ClickHouse used by cdrflow and its tests.",
    )
    parser.add_argument("action", choices=["start", "stop", "restart", "status"])
    parser.add_argument("service", nargs="?", default="all", choices=["all", *services.SERVICES])
    parser.add_argument(
        "--timeout",
        type=float,
        default=services.START_TIMEOUT_S,
        help="seconds to wait for a service to answer (start)",
    )
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    names = list(services.SERVICES) if args.service == "all" else [args.service]

    try:
        if args.action in {"stop", "restart"}:
            if "kafka" in names:
                services.stop_kafka(settings)
            if "clickhouse" in names:
                services.stop_clickhouse(settings)
        if args.action in {"start", "restart"}:
            if args.service == "all":
                services.start_all(settings, timeout=args.timeout)
            elif args.service == "kafka":
                services.start_kafka(settings, timeout=args.timeout)
            else:
                services.start_clickhouse(settings, timeout=args.timeout)
    except services.ServiceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1

    if args.action == "status":
        statuses = [
            services.kafka_status(settings)
            if name == "kafka"
            else services.clickhouse_status(settings)
            for name in names
        ]
        for status in statuses:
            print(status.line())
        return 0 if all(s.running for s in statuses) else 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
