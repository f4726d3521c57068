"""Live pages: the ledger's JournalPosted events pushed to the pages open on their company.

Why this exists: the cockpit's promise is figures that are current. Each API process reads
finance.gl.events.v1 from its end, without a consumer group (nothing to commit: a page that
missed an event while closed reloads anyway), and wakes the server-sent-event streams of the
pages showing that company. A page then reloads its figures from the APIs."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

from aiokafka import AIOKafkaConsumer
from fincore.events.envelope import EnvelopeError, decode_record
from fincore.kafka import security

from cockpit.settings import CockpitSettings

log = logging.getLogger(__name__)
TOPIC = "finance.gl.events.v1"
JOURNAL_POSTED = "finance.gl.JournalPosted.v1"


class LiveFeed:
    def __init__(self, settings: CockpitSettings) -> None:
        self.settings = settings
        self.pages: dict[str, set[asyncio.Queue]] = {}
        self.posted_at: dict[str, dt.datetime] = {}
        self._task: asyncio.Task | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self.running = False

    def subscribe(self, company: str) -> asyncio.Queue:
        q: asyncio.Queue = asyncio.Queue(maxsize=16)
        self.pages.setdefault(company, set()).add(q)
        return q

    def unsubscribe(self, company: str, q: asyncio.Queue) -> None:
        self.pages.get(company, set()).discard(q)

    def notify(self, company: str, journal: str) -> None:
        self.posted_at[company] = dt.datetime.now(dt.UTC)
        for q in list(self.pages.get(company, ())):
            if q.full():  # a slow page needs one reload, not every event
                continue
            q.put_nowait(journal)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="cockpit-live")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._consumer is not None:
            await self._consumer.stop()

    async def _run(self) -> None:
        while True:  # the broker may come up after us, or go away for a while
            try:
                self._consumer = AIOKafkaConsumer(
                    TOPIC, bootstrap_servers=self.settings.kafka_bootstrap_servers, group_id=None,
                    client_id="cockpit-live", auto_offset_reset="latest", enable_auto_commit=False,
                    fetch_max_wait_ms=100,  # a page should see a journal within a second or two
                    **security(self.settings))
                await self._consumer.start()
                self.running = True
                log.info("cockpit live feed reading %s", TOPIC)
                async for rec in self._consumer:
                    try:
                        env = decode_record(rec.topic, rec.key, rec.value, rec.headers)
                    except EnvelopeError:
                        continue
                    if env.type == JOURNAL_POSTED:
                        self.notify(env.payload.company_id, env.payload.document_number)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - retried: live updates must come back by themselves
                self.running = False
                log.warning("cockpit live feed: %s; retrying", exc)
                if self._consumer is not None:
                    await self._consumer.stop()
                    self._consumer = None
                await asyncio.sleep(2)
