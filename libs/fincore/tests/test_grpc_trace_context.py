"""fincore.grpc_server's interceptors when no span is recorded: the call continues the caller's
trace (traceparent metadata) or starts one, and the servicer sees it as the current trace."""

from __future__ import annotations

import asyncio

import grpc
from fincore.grpc_server import server_interceptors
from fincore.telemetry import configure_telemetry, current_trace_id, recording
from fincore.testing import free_port

METHOD = "/fincore.test.Trace/Current"


async def _serve_and_call(*metadata: tuple) -> list[str]:
    async def current(request: bytes, context) -> bytes:
        await asyncio.sleep(0)  # the context survives a suspension
        return current_trace_id().encode()

    handler = grpc.method_handlers_generic_handler("fincore.test.Trace", {
        "Current": grpc.unary_unary_rpc_method_handler(current, request_deserializer=None, response_serializer=None)})
    server = grpc.aio.server(interceptors=server_interceptors())
    server.add_generic_rpc_handlers((handler,))
    port = free_port()
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            call = channel.unary_unary(METHOD)
            return [(await call(b"", metadata=md)).decode() for md in metadata]
    finally:
        await server.stop(None)


def test_a_call_continues_the_callers_trace_or_starts_one(monkeypatch):
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "none")
    configure_telemetry("fincore-test")
    assert not recording()  # the lean interceptor, not OpenTelemetry's instrumentation
    a, b = "4bf92f3577b34da6a3ce929d0e0e4736", "0af7651916cd43dd8448eb211c80319c"
    continued = asyncio.run(_serve_and_call((("traceparent", f"00-{a}-00f067aa0ba902b7-01"),),
                                            (("traceparent", f"00-{b}-b7ad6b7169203331-00"),)))
    assert continued == [a, b]  # the wrapper is made once per method; each call reads its own metadata
    started = asyncio.run(_serve_and_call((), ()))
    assert all(len(t) == 32 and int(t, 16) for t in started)  # a valid trace id per call, each its own
    assert started[0] != started[1]
