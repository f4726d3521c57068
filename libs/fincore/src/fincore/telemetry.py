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


def configure_telemetry(service_name: str, process: str = "") -> None:
    """Install the SDK tracer provider. Exporters by the standard OTEL_TRACES_EXPORTER, a
    comma-separated list of otlp | console | file | none (default none); the OTLP exporter
    reads OTEL_EXPORTER_OTLP_*; `file` writes JSON lines under FINANCE_TRACE_DIR (default
    `<FINANCE_DATA_DIR>/traces`), which `finance-trace ID` prints as a tree.

    With `none` the provider is still installed, with a sampler that records nothing: every
    edge (HTTP, gRPC, outbox row, Kafka header) still starts or continues a W3C trace context,
    so every event and journal carries a trace id, at the cost of an id and no span."""
    global _configured, _recording
    if _configured:
        return
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter
    from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

    exporters = [n.strip() for n in os.environ.get("OTEL_TRACES_EXPORTER", "none").split(",")
                 if n.strip() and n.strip() != "none"]
    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", service_name),
                                "service.namespace": "finance"})
    if not exporters:
        trace.set_tracer_provider(TracerProvider(resource=resource, sampler=ALWAYS_OFF))
        _configured = True
        return
    provider = TracerProvider(resource=resource)
    for name in exporters:
        if name == "otlp":
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        elif name == "console":
            provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
        elif name == "file":
            from fincore.tracefile import JsonLinesSpanExporter, trace_dir

            path = trace_dir() / f"{service_name}-{process or 'process'}-{os.getpid()}.jsonl"
            provider.add_span_processor(BatchSpanProcessor(JsonLinesSpanExporter(path), schedule_delay_millis=500))
        else:
            raise ValueError(f"OTEL_TRACES_EXPORTER: unknown exporter {name!r} (otlp, console, file, none)")
    trace.set_tracer_provider(provider)
    _configured = _recording = True


def recording() -> bool:
    """True when spans are recorded and exported (an SDK provider is installed)."""
    return _recording


def shutdown_telemetry() -> None:
    provider = trace.get_tracer_provider()
    if hasattr(provider, "shutdown"):
        provider.shutdown()


def inject_headers(context: otel_context.Context | None = None) -> dict[str, str]:
    """The trace context (the current one, or `context`) as W3C headers (traceparent, tracestate)."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier, context=context)
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
