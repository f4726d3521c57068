"""The gRPC server every service with a synchronous contract runs (grpc.aio): the standard
health service, reflection, tracing from gRPC metadata, and bearer-token checks."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio
from grpc_reflection.v1alpha import reflection

from fincore.auth import Authenticator, Principal
from fincore.errors import ProblemError

log = logging.getLogger(__name__)


async def authorize(context: grpc.aio.ServicerContext, auth: Authenticator, scope: str, company: str) -> Principal:
    """The bearer token in the call's metadata must hold `scope` and grant `company`."""
    md = dict(context.invocation_metadata() or ())
    header = md.get("authorization", "")
    if not header.lower().startswith("bearer "):
        await context.abort(grpc.StatusCode.UNAUTHENTICATED, "a bearer token is required (authorization metadata)")
    try:
        principal = auth.decode(header.split(" ", 1)[1])
    except ProblemError as exc:
        await context.abort(grpc.StatusCode.UNAUTHENTICATED, exc.detail)
    if scope not in principal.scopes:
        await context.abort(grpc.StatusCode.PERMISSION_DENIED, f"token lacks scope {scope!r}")
    if not principal.can_access(company):
        await context.abort(grpc.StatusCode.PERMISSION_DENIED, f"token does not grant company {company!r}")
    return principal


_STATUS = {400: grpc.StatusCode.INVALID_ARGUMENT, 401: grpc.StatusCode.UNAUTHENTICATED,
           403: grpc.StatusCode.PERMISSION_DENIED, 404: grpc.StatusCode.NOT_FOUND,
           409: grpc.StatusCode.FAILED_PRECONDITION, 422: grpc.StatusCode.INVALID_ARGUMENT}


class ErrorInterceptor(grpc.aio.ServerInterceptor):
    """What a servicer did not answer itself leaves as a clean status: a ProblemError as its
    gRPC status and detail, anything else as INTERNAL "internal error" (logged). Without this,
    grpc answers UNKNOWN with the exception's class and message ("Unexpected <class ...>")."""

    async def intercept_service(self, continuation, handler_call_details):
        handler = await continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler
        inner, method = handler.unary_unary, handler_call_details.method

        async def guarded(request, context):
            try:
                return await inner(request, context)
            except (grpc.aio.AbortError, asyncio.CancelledError):
                raise
            except ProblemError as exc:
                await context.abort(_STATUS.get(exc.status, grpc.StatusCode.FAILED_PRECONDITION), exc.detail)
            except Exception:  # noqa: BLE001 - logged here, never shown to the caller
                log.exception("unhandled error in %s", method)
                await context.abort(grpc.StatusCode.INTERNAL, "internal error; it has been logged")

        return grpc.unary_unary_rpc_method_handler(guarded, request_deserializer=handler.request_deserializer,
                                                   response_serializer=handler.response_serializer)


async def serve(*, host: str, port: int, register: Callable[[grpc.aio.Server], Sequence[str]],
                stop: asyncio.Event) -> None:
    """Start a server with the services `register` adds (it returns their full names)."""
    from opentelemetry.instrumentation.grpc import GrpcAioInstrumentorServer

    from fincore.metrics import grpc_metrics_interceptor

    # Always: the call continues the caller's trace from the metadata (or starts one), so what it
    # writes records a trace id even when no span is exported.
    GrpcAioInstrumentorServer().instrument()
    server = grpc.aio.server(interceptors=[grpc_metrics_interceptor(), ErrorInterceptor()])
    names = list(register(server))
    health = health_aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    for name in ["", *names]:
        await health.set(name, health_pb2.HealthCheckResponse.SERVING)
    reflection.enable_server_reflection([*names, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
                                         reflection.SERVICE_NAME], server)
    bound = server.add_insecure_port(f"{host}:{port}")
    await server.start()
    log.info("gRPC serving %s on %s:%d", ", ".join(names), host, bound)
    try:
        await stop.wait()
    finally:
        for name in ["", *names]:
            await health.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)
        await server.stop(grace=5)
