# syntax=docker/dockerfile:1
# One image for every process of the suite: `finance-<svc> migrate | api | relay | consume | grpc`
# (the Kubernetes manifests set the command). Dependencies come only from uv.lock.
# Not built on the development machines (no Docker there); `make test` lints it with hadolint.

ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/finance \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN pip install --no-cache-dir uv==0.13.8
WORKDIR /src
# The lock and every workspace member's metadata first, so the dependency layer is cached
# until uv.lock changes; then the sources, installed as wheels (no editable links to /src).
COPY pyproject.toml uv.lock ./
COPY libs/ libs/
COPY services/ services/
RUN uv sync --frozen --no-dev --no-editable --no-install-workspace \
 && uv sync --frozen --no-dev --no-editable

FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="finance-suite" \
      org.opencontainers.image.description="Event-driven finance suite: GL, AR, AP, inventory, budget over Kafka"
# Only the virtual environment travels: no uv, no pip cache, no compilers, no sources.
COPY --from=build /opt/finance /opt/finance
RUN groupadd --system --gid 10001 finance \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin finance
ENV PATH=/opt/finance/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    FINANCE_DATA_DIR=/tmp/finance \
    OTEL_TRACES_EXPORTER=otlp
# The root filesystem is mounted read-only in Kubernetes; /tmp is an emptyDir.
USER 10001:10001
WORKDIR /tmp
EXPOSE 8001 8002 8003 8004 8005 8006 8007 50052 50056 9464
CMD ["finance-gl", "--help"]
