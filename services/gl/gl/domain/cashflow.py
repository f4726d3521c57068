# ruff: noqa: E501
"""Cash-flow items (direct method). Rules put one on every line that posts to a cash
account, so the cash-flow statement is a grouping of the ledger's cash lines."""

from __future__ import annotations

# item -> (section, English, Chinese)
ITEMS: dict[str, tuple[str, str, str]] = {
    "sales_receipts": ("operating", "Cash received from sales of goods and services", "销售商品、提供劳务收到的现金"),
    "other_operating_receipts": ("operating", "Other cash received from operating activities", "收到其他与经营活动有关的现金"),
    "supplier_payments": ("operating", "Cash paid for goods and services", "购买商品、接受劳务支付的现金"),
    "employee_payments": ("operating", "Cash paid to and for employees", "支付给职工以及为职工支付的现金"),
    "tax_payments": ("operating", "Taxes paid", "支付的各项税费"),
    "other_operating_payments": ("operating", "Other cash paid for operating activities", "支付其他与经营活动有关的现金"),
    "interest_received": ("investing", "Interest received", "取得投资收益收到的现金"),
    "asset_disposal_receipts": ("investing", "Proceeds from disposal of fixed assets", "处置固定资产收回的现金净额"),
    "asset_purchase_payments": ("investing", "Cash paid for fixed assets", "购建固定资产支付的现金"),
    "borrowings_received": ("financing", "Cash received from borrowings", "取得借款收到的现金"),
    "borrowings_repaid": ("financing", "Cash repaid on borrowings", "偿还债务支付的现金"),
    "capital_contributed": ("financing", "Cash received from capital contributions", "吸收投资收到的现金"),
    # Moves between the company's own cash accounts: no flow in or out; both legs cancel.
    "internal_transfer": ("internal", "Transfers between own cash accounts", "内部转账"),
    # Revaluation of foreign-currency cash: not a flow, the reconciling item of the statement.
    "fx_effect": ("fx", "Effect of exchange rate changes on cash", "汇率变动对现金及现金等价物的影响"),
}
SECTIONS = ("operating", "investing", "financing")
