"""Test infrastructure shared by integration tests, e2e tests and benchmarks.

One fixture, three sources for the broker and PostgreSQL, tried in this order:
1. an existing cluster named by KAFKA_BOOTSTRAP_SERVERS (and TEST_POSTGRES_URL if set);
2. testcontainers (Kafka, PostgreSQL) when a Docker engine answers;
3. the local Kafka-protocol broker from PyPI (Tansu, on a free port) and the machine's
   PostgreSQL (TEST_POSTGRES_URL, default postgresql+psycopg://postgres@127.0.0.1:5432/postgres).
Whatever cannot be started or reached fails the run with the reason: nothing is skipped.
"""

from fincore.testing.infra import Infra, free_port, start_infra
from fincore.testing.otlp import OtlpReceiver
from fincore.testing.procs import ServiceProcess

__all__ = ["Infra", "OtlpReceiver", "ServiceProcess", "free_port", "start_infra"]
