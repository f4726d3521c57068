"""OpenTelemetry: SDK set-up (called only from a service's main) and W3C context helpers.

Library code uses the API only. Trace context crosses process boundaries in three
carriers: HTTP headers (FastAPI instrumentation), gRPC metadata (gRPC instrumentation) and
Kafka record headers (`inject_headers` when the outbox row is written, restored by the
relay, `extract_context` in the consumer).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace

_configured = False
_recording = False


def configure_telemetry(service_name: str) -> None:
    """Install the SDK tracer provider. Exporter by the standard OTEL_TRACES_EXPORTER
    (otlp | console | none, default none); the OTLP exporter reads OTEL_EXPORTER_OTLP_*."""
    global _configured
    if _configured:
        return
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

    exporters = [n.strip() for n in os.environ.get("OTEL_TRACES_EXPORTER", "none").split(",") if n.strip()]
    if not exporters or exporters == ["none"]:
        # No SDK: the API's no-op tracer still carries the incoming trace context (so journals
        # keep the trace id of their source) without the cost of recording spans nobody exports.
        _configured = True
        return
    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", service_name),
                                "service.namespace": "finance"})
    provider = TracerProvider(resource=resource)
    for name in exporters:
        if name == "otlp":
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        elif name == "console":
            provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
    trace.set_tracer_provider(provider)
    global _recording
    _configured = _recording = True


def recording() -> bool:
    """True when spans are recorded and exported (an SDK provider is installed)."""
    return _recording


def shutdown_telemetry() -> None:
    provider = trace.get_tracer_provider()
    if hasattr(provider, "shutdown"):
        provider.shutdown()


def inject_headers() -> dict[str, str]:
    """The current trace context as W3C headers (traceparent, tracestate)."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


def extract_context(headers: Mapping[str, str] | Iterable[tuple[str, bytes]]) -> otel_context.Context:
    if not isinstance(headers, Mapping):
        headers = {k: v.decode(errors="replace") for k, v in headers}
    return propagate.extract(headers)


def current_trace_id() -> str:
    ctx = trace.get_current_span().get_span_context()
    return format(ctx.trace_id, "032x") if ctx.is_valid else ""


def trace_id_of(headers: Mapping[str, str]) -> str:
    span_ctx = trace.get_current_span(extract_context(headers)).get_span_context()
    return format(span_ctx.trace_id, "032x") if span_ctx.is_valid else ""
