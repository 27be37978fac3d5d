"""The one place that reads the environment.

Every other module receives a `Settings` value; none calls `os.environ`.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlparse

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class ClickHouseEndpoint:
    host: str
    port: int
    database: str
    user: str = "default"
    password: str = ""

    @classmethod
    def from_url(cls, url: str) -> ClickHouseEndpoint:
        """Parse `clickhouse://user:password@host:port/database`."""
        parsed = urlparse(url)
        if parsed.scheme != "clickhouse":
            raise ValueError(f"CLICKHOUSE_URL must start with clickhouse://, got {url!r}")
        return cls(
            host=parsed.hostname or "127.0.0.1",
            port=parsed.port or 9000,
            database=(parsed.path or "/").lstrip("/") or "default",
            user=parsed.username or "default",
            password=parsed.password or "",
        )

    @property
    def url(self) -> str:
        auth = self.user + (f":{self.password}" if self.password else "")
        return f"clickhouse://{auth}@{self.host}:{self.port}/{self.database}"


@dataclass(frozen=True)
class Settings:
    kafka_bootstrap: str = "127.0.0.1:19092"
    clickhouse: ClickHouseEndpoint = ClickHouseEndpoint("127.0.0.1", 19000, "cdrflow")
    topic_prefix: str = ""
    partitions: int = 4
    app_id: str = "cdrflow"
    api_secret: str = "change-me"  # noqa: S105 - the demo's; the API warns while it is in use
    disable_hash_check: bool = False
    allow_get_api: bool = False
    allow_api: bool = True  # MOR's "Allow API globally"
    api_ip_restrict: bool = False  # MOR's "Restrict API access by IP"
    api_allowed_ips: tuple[str, ...] = ()  # IPv4/IPv6 addresses or CIDR networks
    api_balance: bool = False  # MOR's "balance over HTTP" (user_balance_get)
    api_rate: bool = False  # MOR's "rate over HTTP" (rate_get)
    api_payments: bool = False  # MOR's "API allow Payments" (payment_create)
    api_payment_confirmation: bool = False  # MOR's "API Payment Confirmation"
    api_registration: bool = False  # MOR's "API allow Registration" (user_register)
    api_uniquehash: str = ""  # MOR's "Uniquehash": the `id` registrations must present
    session_secret: str = ""  # signs page sessions; empty: derived from api_secret
    api_host: str = "127.0.0.1"
    api_port: int = 8080
    sink_batch_size: int = 10_000
    sink_batch_seconds: float = 0.5
    max_call_seconds: int = 14_400  # a call with no call_ended is closed after this long
    late_seconds: int = 300  # closed calls are remembered, lost starts waited for, this long
    sweep_seconds: float = 10.0  # how often the worker looks for such calls
    webhook_timeout: float = 10.0  # seconds a Call End webhook POST may take (docs/webhooks.md)
    webhook_max_backoff: float = 30.0  # the longest wait between two attempts of a POST
    data_dir: Path = REPO_ROOT / "var"
    cache_dir: Path = Path.home() / ".cache" / "cdrflow"
    in_ci: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        base = cls()
        return cls(
            kafka_bootstrap=env.get("KAFKA_BOOTSTRAP", base.kafka_bootstrap),
            clickhouse=ClickHouseEndpoint.from_url(env["CLICKHOUSE_URL"])
            if env.get("CLICKHOUSE_URL")
            else base.clickhouse,
            topic_prefix=env.get("CDRFLOW_TOPIC_PREFIX", base.topic_prefix),
            partitions=int(env.get("CDRFLOW_PARTITIONS", base.partitions)),
            app_id=env.get("CDRFLOW_APP_ID", base.app_id),
            api_secret=env.get("CDRFLOW_API_SECRET", base.api_secret),
            disable_hash_check=_flag(env.get("CDRFLOW_DISABLE_HASH_CHECK", "")),
            allow_get_api=_flag(env.get("CDRFLOW_ALLOW_GET_API", "")),
            allow_api=_flag(env.get("CDRFLOW_ALLOW_API", "1")),
            api_ip_restrict=_flag(env.get("CDRFLOW_API_IP_RESTRICT", "")),
            api_allowed_ips=tuple(
                item.strip() for item in env.get("CDRFLOW_API_ALLOWED_IPS", "").split(",")
                if item.strip()
            ),
            api_balance=_flag(env.get("CDRFLOW_API_BALANCE", "")),
            api_rate=_flag(env.get("CDRFLOW_API_RATE", "")),
            api_payments=_flag(env.get("CDRFLOW_API_PAYMENTS", "")),
            api_payment_confirmation=_flag(env.get("CDRFLOW_API_PAYMENT_CONFIRMATION", "")),
            api_registration=_flag(env.get("CDRFLOW_API_REGISTRATION", "")),
            api_uniquehash=env.get("CDRFLOW_API_UNIQUEHASH", base.api_uniquehash),
            session_secret=env.get("CDRFLOW_SESSION_SECRET", base.session_secret),
            api_host=env.get("CDRFLOW_API_HOST", base.api_host),
            api_port=int(env.get("CDRFLOW_API_PORT", base.api_port)),
            sink_batch_size=int(env.get("CDRFLOW_SINK_BATCH_SIZE", base.sink_batch_size)),
            sink_batch_seconds=float(
                env.get("CDRFLOW_SINK_BATCH_SECONDS", base.sink_batch_seconds)
            ),
            max_call_seconds=int(env.get("CDRFLOW_MAX_CALL_SECONDS", base.max_call_seconds)),
            late_seconds=int(env.get("CDRFLOW_LATE_SECONDS", base.late_seconds)),
            sweep_seconds=float(env.get("CDRFLOW_SWEEP_SECONDS", base.sweep_seconds)),
            webhook_timeout=float(env.get("CDRFLOW_WEBHOOK_TIMEOUT", base.webhook_timeout)),
            webhook_max_backoff=float(
                env.get("CDRFLOW_WEBHOOK_MAX_BACKOFF", base.webhook_max_backoff)),
            data_dir=Path(env.get("CDRFLOW_DATA_DIR", str(base.data_dir))),
            cache_dir=Path(env.get("CDRFLOW_CACHE_DIR", str(base.cache_dir))),
            in_ci=_flag(env.get("CI", "")),
        )

    def to_env(self) -> dict[str, str]:
        """The environment variables that make `from_env` return these settings."""
        return {
            "KAFKA_BOOTSTRAP": self.kafka_bootstrap,
            "CLICKHOUSE_URL": self.clickhouse.url,
            "CDRFLOW_TOPIC_PREFIX": self.topic_prefix,
            "CDRFLOW_PARTITIONS": str(self.partitions),
            "CDRFLOW_APP_ID": self.app_id,
            "CDRFLOW_API_SECRET": self.api_secret,
            "CDRFLOW_DISABLE_HASH_CHECK": "1" if self.disable_hash_check else "",
            "CDRFLOW_ALLOW_GET_API": "1" if self.allow_get_api else "",
            "CDRFLOW_ALLOW_API": "1" if self.allow_api else "0",
            "CDRFLOW_API_IP_RESTRICT": "1" if self.api_ip_restrict else "",
            "CDRFLOW_API_ALLOWED_IPS": ",".join(self.api_allowed_ips),
            "CDRFLOW_API_BALANCE": "1" if self.api_balance else "",
            "CDRFLOW_API_RATE": "1" if self.api_rate else "",
            "CDRFLOW_API_PAYMENTS": "1" if self.api_payments else "",
            "CDRFLOW_API_PAYMENT_CONFIRMATION": "1" if self.api_payment_confirmation else "",
            "CDRFLOW_API_REGISTRATION": "1" if self.api_registration else "",
            "CDRFLOW_API_UNIQUEHASH": self.api_uniquehash,
            "CDRFLOW_SESSION_SECRET": self.session_secret,
            "CDRFLOW_API_HOST": self.api_host,
            "CDRFLOW_API_PORT": str(self.api_port),
            "CDRFLOW_SINK_BATCH_SIZE": str(self.sink_batch_size),
            "CDRFLOW_SINK_BATCH_SECONDS": str(self.sink_batch_seconds),
            "CDRFLOW_MAX_CALL_SECONDS": str(self.max_call_seconds),
            "CDRFLOW_LATE_SECONDS": str(self.late_seconds),
            "CDRFLOW_SWEEP_SECONDS": str(self.sweep_seconds),
            "CDRFLOW_WEBHOOK_TIMEOUT": str(self.webhook_timeout),
            "CDRFLOW_WEBHOOK_MAX_BACKOFF": str(self.webhook_max_backoff),
            "CDRFLOW_DATA_DIR": str(self.data_dir),
            "CDRFLOW_CACHE_DIR": str(self.cache_dir),
        }

    @property
    def session_key(self) -> str:
        """The key that signs page sessions (`session_secret`, or one derived from the API
        secret so that a single secret is enough to run cdrflow)."""
        if self.session_secret:
            return self.session_secret
        return hashlib.sha256(f"cdrflow-session:{self.api_secret}".encode()).hexdigest()

    def topic(self, name: str) -> str:
        """The full Kafka topic name for one of the names in `streams.topics`."""
        return f"{self.topic_prefix}{name}"

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]


def _flag(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}
