"""Infrastructure shared by integration and e2e tests: one broker and one PostgreSQL per run
(see fincore.testing for where they come from). Logs go to .run/e2e/<timestamp>/."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from fincore.testing import OtlpReceiver, start_infra

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def log_dir() -> Path:
    d = ROOT / ".run" / "e2e" / dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    d.mkdir(parents=True, exist_ok=True)
    return d


@pytest.fixture(scope="session")
def infra(log_dir):
    with start_infra(log_dir) as i:
        yield i


@pytest.fixture(scope="session")
def otlp():
    with OtlpReceiver() as r:
        yield r
