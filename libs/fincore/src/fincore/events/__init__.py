from fincore.events.envelope import Envelope, EnvelopeError, decode_record, encode_record, new_envelope
from fincore.events.registry import EventSpec, registry

__all__ = [
    "Envelope",
    "EnvelopeError",
    "EventSpec",
    "decode_record",
    "encode_record",
    "new_envelope",
    "registry",
]
