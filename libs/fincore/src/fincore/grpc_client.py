"""Calling another service's gRPC API: one channel per target, a deadline on every call, the
bearer token and the W3C trace context in the metadata (the server side continues the trace)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from opentelemetry import trace

from fincore.telemetry import inject_headers

tracer = trace.get_tracer("fincore.grpc_client")


class GrpcClient:
    def __init__(self, target: str, *, timeout_s: float) -> None:
        self.target, self.timeout_s = target, timeout_s
        self._channel: grpc.aio.Channel | None = None

    @property
    def channel(self) -> grpc.aio.Channel:
        if self._channel is None:
            self._channel = grpc.aio.insecure_channel(self.target)
        return self._channel

    async def call(self, method: Callable[..., Awaitable[Any]], name: str, request: Any, *, token: str) -> Any:
        """`method` is a stub's bound method; `name` is "package.Service/Method" for the span."""
        with tracer.start_as_current_span(name, kind=trace.SpanKind.CLIENT,
                                          attributes={"rpc.system": "grpc", "server.address": self.target}):
            metadata = [("authorization", f"Bearer {token}"), *inject_headers().items()]
            return await method(request, timeout=self.timeout_s, metadata=metadata)

    async def close(self) -> None:
        if self._channel is not None:
            await self._channel.close()
            self._channel = None
