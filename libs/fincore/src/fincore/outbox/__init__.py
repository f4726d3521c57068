"""Transactional outbox: the event is written with the state change, in the same
transaction, and published later by the relay. A handler never talks to Kafka, so a crash
can lose neither the state nor the event, and cannot publish an event whose state rolled back.
"""

from fincore.outbox.relay import OutboxRelay
from fincore.outbox.writer import add_event, event_row, event_rows

__all__ = ["OutboxRelay", "add_event", "event_row", "event_rows"]
