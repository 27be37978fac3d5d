"""The worker's guard against records its stream skipped (docs/faults.md, "Skipped records").

faust-streaming 0.15.3 can skip records of `call-events` after a restart or a rebalance
and commit past them: the fetcher reads a batch while the flow is suspended during
recovery, drops it, and still advances its read offset; after the seek to the committed
offset the same records are dropped again as already read, and the commit jumps over
them ("gaps", meant for compacted topics). `tests/integration/test_faults.py` lost 37 to
491 calls in a row that way, killing the worker three times during a load.

So the agent checks the offsets itself. Per partition and consumer generation it knows
which offset must come next: after the one it handled last, or, for the first record of
a generation, the group's committed offset (nothing of the generation is committed before
the agent handles its first record). A record beyond it means the stream skipped some:
the agent reads them from Kafka with a consumer of its own and handles them first, in
order. Offsets without a record (transaction markers) simply yield nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient


@dataclass(frozen=True, slots=True)
class Source:
    """Where a record came from, and its bytes: a Faust message or one read again."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes | None

    @classmethod
    def of_message(cls, message: Any) -> Source:  # a faust.types.Message
        return cls(message.topic, message.partition, message.offset,
                   int(message.timestamp * 1000), message.key, message.value)

    @classmethod
    def of_record(cls, record: ConsumerRecord[bytes, bytes]) -> Source:
        return cls(record.topic, record.partition, record.offset, record.timestamp,
                   record.key, record.value)


@dataclass
class Positions:
    """Per partition: the consumer generation and the next offset expected in it."""

    _next: dict[int, tuple[int | None, int]] = field(default_factory=dict)

    def expected(self, partition: int, generation: int | None) -> int | None:
        """The offset that must come next; None for the partition's first record in this
        generation (then the committed offset tells)."""
        known = self._next.get(partition)
        if known is None or known[0] != generation:
            return None
        return known[1]

    def handled(self, partition: int, generation: int | None, offset: int) -> None:
        known = self._next.get(partition)
        if known is None or known[0] != generation or offset + 1 > known[1]:
            self._next[partition] = (generation, offset + 1)


async def committed_offset(bootstrap: str, group: str, tp: TopicPartition) -> int | None:
    """The group's committed offset of one partition; None when it has none."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        found = await admin.list_consumer_group_offsets(group, partitions=[tp])
    finally:
        await admin.close()
    meta = found.get(tp)
    return meta.offset if meta is not None and meta.offset >= 0 else None


async def read_range(bootstrap: str, tp: TopicPartition, start: int | None,
                     end: int) -> list[ConsumerRecord[bytes, bytes]]:
    """The records of one partition from `start` (None: its beginning) up to `end`,
    excluded."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign([tp])
        if start is None:
            await consumer.seek_to_beginning(tp)
        else:
            consumer.seek(tp, start)
        records: list[ConsumerRecord[bytes, bytes]] = []
        while await consumer.position(tp) < end:
            batch = await consumer.getmany(tp, timeout_ms=1000)
            records += [r for r in batch.get(tp, []) if r.offset < end]
        return records
    finally:
        await consumer.stop()
