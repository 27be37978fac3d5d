"""The `cdrflow` command: services, worker, sink, webhooks, API, simulator, demo."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence

from cdrflow import (
    dead_letters_command,
    device_command,
    invoice_command,
    payment_command,
    projections_command,
    rate_command,
    reference_command,
    rerate_command,
    tariff_command,
    user_command,
    webhook_command,
)
from cdrflow.settings import Settings


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cdrflow", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command", required=True)

    services = commands.add_parser(
        "services", help="start/stop/restart/status of the local Kafka and ClickHouse")
    services.add_argument("args", nargs=argparse.REMAINDER,
                          help="as for `python -m infra`, e.g. `start` or `status kafka`")
    commands.add_parser("setup", help="create topics and apply ClickHouse migrations")
    commands.add_parser("worker", help="run the Faust worker (assemble and rate calls)")
    commands.add_parser("sink", help="run the ClickHouse sink (CDRs, faxes, accounts, tariffs)")
    commands.add_parser("api", help="serve the MOR XML API")
    commands.add_parser("webhooks", help="post ended calls to their Call End webhook URLs")
    commands.add_parser("load-demo", help="publish the demo users, devices and tariff")
    simulate = commands.add_parser("simulate", help="publish simulated call events")
    simulate.add_argument("--count", type=int, default=100, help="calls to publish (0: endless)")
    simulate.add_argument("--rate", type=float, default=10.0, help="calls per second")
    simulate.add_argument("--seed", type=int, default=1)
    demo = commands.add_parser("demo", help="run the whole pipeline with the simulator")
    demo.add_argument("--rate", type=float, default=2.0, help="simulated calls per second")
    demo.add_argument("--count", type=int, default=0, help="calls to simulate (0: endless)")
    rate_command.add_parser(commands)
    rerate_command.add_parser(commands)
    dead_letters_command.add_parser(commands)
    hash_ = commands.add_parser("hash", help="print the MOR API hash of parameter values")
    hash_.add_argument("values", nargs="*", help="hashed parameter values, in order")
    tariff_command.add_parser(commands)
    user_command.add_parser(commands)
    device_command.add_parser(commands)
    payment_command.add_parser(commands)
    invoice_command.add_parser(commands)
    reference_command.add_parser(commands)
    projections_command.add_parser(commands)
    webhook_command.add_parser(commands)

    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    settings = Settings.from_env()
    command = args.command.replace("-", "_")
    return int(globals()[f"_{command}"](settings, args) or 0)


def _services(settings: Settings, args: argparse.Namespace) -> int:
    from infra.__main__ import main as infra_main

    return infra_main(args.args)


def _setup(settings: Settings, args: argparse.Namespace) -> None:
    from projections.clickhouse import migrate
    from streams.topics import ensure_topics

    created = asyncio.run(ensure_topics(settings))
    applied = migrate(settings.clickhouse)
    print(f"topics created: {len(created)}; migrations applied: {len(applied)}")


def _worker(settings: Settings, args: argparse.Namespace) -> None:
    import faust

    from streams.app import create_app
    from streams.topics import ensure_topics

    asyncio.run(ensure_topics(settings))
    app = create_app(settings)
    faust.Worker(app, loglevel="DEBUG" if args.verbose else "INFO").execute_from_commandline()


def _sink(settings: Settings, args: argparse.Namespace) -> None:
    from projections.clickhouse import migrate
    from streams.sink import run_sinks
    from streams.topics import ensure_topics

    migrate(settings.clickhouse)
    asyncio.run(ensure_topics(settings))
    _run_until_signal(lambda stop: run_sinks(settings, stop))


def _webhooks(settings: Settings, args: argparse.Namespace) -> None:
    from streams.topics import ensure_topics
    from streams.webhooks import run_webhooks

    asyncio.run(ensure_topics(settings))
    _run_until_signal(lambda stop: run_webhooks(settings, stop))


def _webhook(settings: Settings, args: argparse.Namespace) -> int:
    return webhook_command.run(settings, args)


def _api(settings: Settings, args: argparse.Namespace) -> None:
    import uvicorn

    from api.app import create_app

    if settings.api_secret == Settings().api_secret:
        logging.getLogger("cdrflow.api").warning(
            "CDRFLOW_API_SECRET is not set: the API accepts hashes made with the demo "
            "secret %r. Set a secret of your own before exposing the API.", settings.api_secret)
    uvicorn.run(create_app(settings), host=settings.api_host, port=settings.api_port,
                log_level="info")


def _load_demo(settings: Settings, args: argparse.Namespace) -> None:
    from cdrflow.demo_data import publish_demo_data

    accounts, tariffs = asyncio.run(publish_demo_data(settings))
    print(f"published {accounts} account events and {tariffs} tariff events")


def _simulate(settings: Settings, args: argparse.Namespace) -> None:
    from cdrflow.demo_data import CALLERS
    from streams.simulator import simulate
    from streams.topics import ensure_topics

    def progress(sent: int) -> None:
        print(f"\rsimulated {sent} calls", end="", file=sys.stderr, flush=True)

    async def run() -> int:
        await ensure_topics(settings)
        return await simulate(settings, CALLERS, args.count or None, args.rate, args.seed,
                              on_progress=progress)

    sent = asyncio.run(run())
    print(f"\nsimulated {sent} calls", file=sys.stderr)


def _demo(settings: Settings, args: argparse.Namespace) -> int:
    from cdrflow.demo import run_demo

    return run_demo(settings, rate=args.rate, count=args.count or None)


def _rate(settings: Settings, args: argparse.Namespace) -> int:
    return rate_command.run(settings, args)


def _rerate(settings: Settings, args: argparse.Namespace) -> int:
    return rerate_command.run(settings, args)


def _dead_letters(settings: Settings, args: argparse.Namespace) -> int:
    return dead_letters_command.run(settings, args)


def _tariff(settings: Settings, args: argparse.Namespace) -> int:
    return tariff_command.run(settings, args)


def _user(settings: Settings, args: argparse.Namespace) -> int:
    return user_command.run(settings, args)


def _device(settings: Settings, args: argparse.Namespace) -> int:
    return device_command.run(settings, args)


def _payment(settings: Settings, args: argparse.Namespace) -> int:
    return payment_command.run(settings, args)


def _invoices(settings: Settings, args: argparse.Namespace) -> int:
    return invoice_command.run(settings, args)


def _provider(settings: Settings, args: argparse.Namespace) -> int:
    return reference_command.run(settings, args)


def _did(settings: Settings, args: argparse.Namespace) -> int:
    return reference_command.run(settings, args)


def _service(settings: Settings, args: argparse.Namespace) -> int:
    return reference_command.run(settings, args)


def _subscription(settings: Settings, args: argparse.Namespace) -> int:
    return reference_command.run(settings, args)


def _projections(settings: Settings, args: argparse.Namespace) -> int:
    return projections_command.run(settings, args)


def _hash(settings: Settings, args: argparse.Namespace) -> None:
    from api.hash import mor_hash

    print(mor_hash(args.values, settings.api_secret))


def _run_until_signal(start: Callable[[asyncio.Event], Awaitable[None]]) -> None:
    import signal

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await start(stop)

    asyncio.run(run())


if __name__ == "__main__":
    sys.exit(main())
