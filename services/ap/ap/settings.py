from decimal import Decimal

from fincore.settings import ServiceSettings
from pydantic_settings import SettingsConfigDict


class APSettings(ServiceSettings):
    """AP_* variables (AP_DATABASE_URL, AP_HTTP_PORT...) plus the suite's shared ones."""

    model_config = SettingsConfigDict(env_prefix="AP_", extra="ignore", populate_by_name=True)

    service_name: str = "ap"
    http_port: int = 8003
    # finance.budget.v1.BudgetService; every call has this deadline and "no answer" refuses
    # the spend (fail closed).
    budget_grpc_target: str = "127.0.0.1:50056"
    budget_timeout_s: float = 3.0
    # Token AP presents to the budget service; empty = relay the caller's own bearer token.
    budget_token: str = ""
    # Three-way match tolerances, in percent of the order's price and of the received quantity.
    price_tolerance_pct: Decimal = Decimal(2)
    quantity_tolerance_pct: Decimal = Decimal(0)
    # The proposer of a payment run may not approve it (four eyes); false only where one
    # person must do both (a one-person company) and the auditors agree.
    segregate_duties: bool = True
