"""Every service's OpenAPI, attacked with generated input (schemathesis, every built-in check):
no 5xx, no answer outside what the operation documents (status, content type, headers,
schema), invalid input refused, valid input never refused as invalid syntax, every route
behind its token.

Against the running suite (PostgreSQL, the broker, every process), with a token for one
test company and every scope but the cross-company operator's (`ops:admin`). Bounded: a
few examples per operation and mode, derandomized, so the run is reproducible and short.

`positive_data_acceptance` counts 422 as an answer: a request that fits the schema can
still break a business rule (an unknown customer, a closed period), and 422 problem+json is
how every route documents that refusal.
"""

from __future__ import annotations

import os

import hypothesis
import pytest
import schemathesis
from fincore.auth import ALL_SCOPES, OPS_ADMIN, mint_token
from fincore.settings import ServiceSettings
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.config import SchemathesisConfig
from schemathesis.generation import GenerationMode

pytestmark = pytest.mark.e2e

MAX_EXAMPLES = int(os.environ.get("CONTRACT_MAX_EXAMPLES", "5"))
# Probes, not the API: /readyz answers 503 by design when the broker is away.
SKIPPED_PATHS = {"/healthz", "/readyz", "/metrics"}
CONFIG = {"checks": {
    "positive_data_acceptance": {"expected-statuses": ["2xx", "401", "403", "404", "409", "422"]},
    # 413: a generated body over the services' size limit is refused before it is parsed.
    "negative_data_rejection": {"expected-statuses": ["400", "401", "403", "404", "405", "406", "409", "413",
                                                      "415", "422", "428", "429"]},
}}


def check_contract(base_url: str, token: str, *, max_examples: int = MAX_EXAMPLES) -> list[str]:
    """Run every operation of the service at `base_url`; return the failures (empty when none)."""
    load_all_checks()
    checks = CHECKS.get_all()
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json",
                                           config=SchemathesisConfig.from_dict(CONFIG))
    headers = {"Authorization": f"Bearer {token}"}
    failures: list[str] = []
    for result in schema.get_all_operations():
        op = result.ok()
        if op.path in SKIPPED_PATHS:
            continue
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @hypothesis.settings(max_examples=max_examples, deadline=None, derandomize=True, database=None,
                                 suppress_health_check=list(hypothesis.HealthCheck),
                                 phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate])
            @hypothesis.given(case=op.as_strategy(generation_mode=mode))
            def run(case) -> None:
                case.call_and_validate(base_url=base_url, headers=headers, checks=checks, timeout=60)

            try:
                run()
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - collected: one report for all
                failures.append(f"{op.method.upper()} {op.path} ({mode.value}): {exc}"[:3000])
    return failures


def contract_token(company: str) -> str:
    return mint_token(ServiceSettings(), subject="contract", companies=[company],
                      scopes=[s for s in ALL_SCOPES if s != OPS_ADMIN])


@pytest.mark.parametrize("service", ["gl", "ar", "ap", "inventory", "budget", "consolidation", "cashmgmt"])
def test_every_operation_keeps_its_documented_contract(suite, service):
    company = suite.new_company("CONTRACT")
    base = {"gl": suite.gl_url, "ar": suite.ar_url, "ap": suite.ap_url, "inventory": suite.inv_url,
            "budget": suite.budget_url, "consolidation": suite.consol_url, "cashmgmt": suite.cash_url}[service]
    failures = check_contract(base, contract_token(company))
    assert not failures, "\n\n".join(failures)
