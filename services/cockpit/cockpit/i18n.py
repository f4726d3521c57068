"""Chinese and English: the language by the user's choice (a cookie) or Accept-Language; numbers,
amounts and dates formatted per locale by babel; amounts at their currency's minor unit."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal
from fincore import money

LANGUAGES = {"en": "en_US", "zh": "zh_Hans_CN"}
DEFAULT = "en"

MESSAGES: dict[str, tuple[str, str]] = {  # key: (English, Chinese)
    "app": ("Finance cockpit", "财务驾驶舱"),
    "skip": ("Skip to content", "跳到正文"),
    "company": ("Company", "公司"),
    "period": ("Period", "期间"),
    "show": ("Show", "显示"),
    "language": ("Language", "语言"),
    "sign_in": ("Sign in", "登录"),
    "sign_in_sso": ("Sign in with your organisation's account", "使用单位账号登录"),
    "sign_in_dev": ("Development sign-in (all scopes, all companies)", "开发环境登录（全部权限与公司）"),
    "sign_in_none": ("No identity provider is configured (COCKPIT_OIDC_ISSUER) and the development sign-in is off.",
                     "未配置身份提供方（COCKPIT_OIDC_ISSUER），开发环境登录未开启。"),
    "sign_out": ("Sign out", "退出"),
    "signed_in_as": ("Signed in as", "当前用户"),
    "nav": ("Pages", "页面"),
    "overview": ("Overview", "概览"),
    "balance_sheet": ("Balance sheet", "资产负债表"),
    "income_statement": ("Income statement", "利润表"),
    "cash_flow": ("Cash flow", "现金流量表"),
    "profit": ("Profit by dimension", "多维利润"),
    "receivables": ("Receivables", "应收账款"),
    "payables": ("Payables", "应付账款"),
    "budget": ("Budget vs actual", "预算执行"),
    "operations": ("Operations", "运维"),
    "as_of": ("As of", "数据截至"),
    "live": ("Live: updates when the ledger posts", "实时：总账过账时自动更新"),
    "mtd": ("Month to date", "本月"),
    "ytd": ("Year to date", "本年累计"),
    "prior_month": ("Prior month", "上月"),
    "vs_prior": ("vs prior month", "较上月"),
    "revenue": ("Revenue", "营业收入"),
    "gross_profit": ("Gross profit", "毛利"),
    "gross_margin": ("Gross margin", "毛利率"),
    "net_income": ("Net income", "净利润"),
    "cash": ("Cash", "货币资金"),
    "open_receivables": ("Open receivables", "应收余额"),
    "open_payables": ("Open payables", "应付余额"),
    "budget_consumed": ("Budget consumed", "预算消耗"),
    "trend": ("Trend, last 12 months", "近12个月趋势"),
    "month": ("Month", "月份"),
    "account": ("Account", "科目"),
    "amount": ("Amount", "金额"),
    "prior": ("Comparison", "对比期"),
    "change": ("Change", "变动"),
    "compare_with": ("Compare with", "对比"),
    "prior_period": ("Prior period", "上期"),
    "prior_year": ("Same period last year", "上年同期"),
    "total": ("Total", "合计"),
    "assets": ("Assets", "资产"),
    "liabilities": ("Liabilities", "负债"),
    "equity": ("Equity", "所有者权益"),
    "expenses": ("Expenses", "费用"),
    "net_change": ("Net change in cash", "现金净增加额"),
    "opening_cash": ("Opening cash", "期初现金"),
    "closing_cash": ("Closing cash", "期末现金"),
    "operating": ("Operating activities", "经营活动"),
    "investing": ("Investing activities", "投资活动"),
    "financing": ("Financing activities", "筹资活动"),
    "ledger": ("Ledger lines", "明细账"),
    "date": ("Date", "日期"),
    "journal": ("Journal", "凭证"),
    "description": ("Description", "摘要"),
    "debit": ("Debit", "借方"),
    "credit": ("Credit", "贷方"),
    "balance": ("Balance", "余额"),
    "opening_balance": ("Opening balance", "期初余额"),
    "source_event": ("Source event", "来源事件"),
    "source_document": ("Business document", "业务单据"),
    "trace": ("Trace", "追踪"),
    "trace_id": ("Trace id", "追踪编号"),
    "spans": ("Spans", "调用段"),
    "service": ("Service", "服务"),
    "start": ("Start", "开始"),
    "duration": ("Duration", "耗时"),
    "no_spans": ("No spans of this trace in the trace files (OTEL_TRACES_EXPORTER=file).",
                 "追踪文件中没有此追踪的调用段（OTEL_TRACES_EXPORTER=file）。"),
    "event_type": ("Event type", "事件类型"),
    "payload": ("Payload", "内容"),
    "rule": ("Posting rule", "过账规则"),
    "lines": ("Lines", "分录"),
    "dimension": ("Dimension", "维度"),
    "rows": ("Rows", "行"),
    "columns": ("Columns", "列"),
    "unassigned": ("(none)", "（未指定）"),
    "pivot_largest": ("the {shown} largest values by amount; {hidden} more are in the last column",
                      "按金额最大的 {shown} 个值；其余 {hidden} 个计入最后一列"),
    "others_and_none": ("(others and none)", "（其他及未指定）"),
    "customer": ("Customer", "客户"),
    "supplier": ("Supplier", "供应商"),
    "product": ("Product", "产品"),
    "region": ("Region", "区域"),
    "sales_team": ("Sales team", "销售团队"),
    "cost_centre": ("Cost centre", "成本中心"),
    "department": ("Department", "部门"),
    "project": ("Project", "项目"),
    "ageing": ("Ageing", "账龄"),
    "credit_position": ("Credit position", "信用状况"),
    "limit": ("Limit", "额度"),
    "exposure": ("Exposure", "占用"),
    "available": ("Available", "可用"),
    "credits": ("Credits", "贷项"),
    "upcoming_payments": ("Upcoming payments (due in the next 14 days)", "即将付款（14天内到期）"),
    "due_date": ("Due date", "到期日"),
    "invoice": ("Invoice", "发票"),
    "budget_item": ("Budget item", "预算项目"),
    "actual": ("Actual", "实际"),
    "committed": ("Committed", "已承诺"),
    "consumed": ("Consumed", "已消耗"),
    "variance": ("Variance", "差异"),
    "pct_consumed": ("% consumed", "消耗比例"),
    "flag": ("Flag", "标记"),
    "flag_over": ("Over budget", "超预算"),
    "flag_warn": ("Near the limit", "接近上限"),
    "flag_ok": ("Within budget", "预算内"),
    "consumer_lag": ("Consumer lag", "消费延迟"),
    "parked_events": ("Parked events", "挂起事件"),
    "dead_letters": ("Dead letters", "死信"),
    "replay": ("Replay", "重放"),
    "replayed": ("Replayed", "已重放"),
    "error": ("Error", "错误"),
    "reason": ("Reason", "原因"),
    "none": ("None", "无"),
    "not_available": ("Not available", "不可用"),
    "unavailable_detail": ("This service did not answer", "该服务未响应"),
    "no_data": ("No data for this period.", "本期无数据。"),
    "more": ("More", "更多"),
    "chart_of": ("Chart: revenue and net income per month (the table below has the same figures)",
                 "图表：每月营业收入与净利润（下表为相同数据）"),
    "cash_position": ("Cash position", "资金头寸"),
    "consolidation": ("Consolidation", "合并报表"),
    "run": ("Consolidation run", "合并运行"),
    "bank_account": ("Bank account", "银行账户"),
    "bank_balance": ("Bank (last statement)", "银行对账单余额"),
    "final": ("Final", "定稿"),
    "draft": ("Draft", "草稿"),
    "group_hint": ("The company field is the group's id on this page.", "本页的公司栏填写集团编号。"),
    "entity": ("Entity", "主体"),
    "entities": ("By entity", "按主体"),
    "elimination_journals": ("Consolidation journals", "合并分录"),
    "profit_for_period": ("Profit for the period", "本期利润"),
    "nci": ("Non-controlling interests", "少数股东权益"),
    "coming": ("Coming with the service that provides it.", "待相应服务上线后提供。"),
    "ops_admin_only": ("Replaying needs the ops:admin or admin scope.", "重放需要 ops:admin 或 admin 权限。"),
    "cash_forecast": ("13-week cash forecast", "13周现金流预测"),
    "make_forecast": ("Make a forecast", "生成预测"),
    "forecast_as_of": ("Forecast as of", "预测基准日"),
    "kept_forecasts": ("Kept forecasts", "已保存的预测"),
    "no_forecast": ("No forecast kept yet for this company: make one.", "该公司尚无预测，请生成。"),
    "week": ("Week", "周"),
    "inflows": ("Inflows", "流入"),
    "outflows": ("Outflows", "流出"),
    "net": ("Net", "净额"),
    "closing_balance": ("Closing balance", "期末余额"),
    "opening_balance_bank": ("Opening balance (bank)", "期初余额（银行）"),
    "actual_net": ("Actual net (bank)", "实际净额（银行）"),
    "not_yet_known": ("not yet known", "尚未知"),
    "beyond_horizon": ("After week 13", "13周以后"),
    "src_receivables": ("Receivables", "应收账款"),
    "src_sales_orders": ("Sales orders", "销售订单"),
    "src_payables": ("Payables", "应付账款"),
    "src_purchase_orders": ("Purchase orders", "采购订单"),
    "src_budget": ("Budget", "预算"),
    "documents": ("Documents", "单据"),
    "document": ("Document", "单据"),
    "source": ("Source", "来源"),
    "party": ("Party", "往来方"),
    "expected_on": ("Expected on", "预计日期"),
    "basis": ("Basis", "依据"),
    "days_late": ("Average days late by customer", "客户平均逾期天数"),
    "back_to_forecast": ("Back to the forecast", "返回预测"),
    "forecast_chart": ("Chart: net cash flow per week and closing balance (the table has the same figures)",
                       "图表：每周净现金流与期末余额（表格为相同数据）"),
    "forecast_link": ("13-week cash forecast", "13周现金流预测"),
    "live_position": ("Live cash position", "实时资金头寸"),
    "currency": ("Currency", "币种"),
    "gl_account": ("Ledger account", "总账科目"),
    "booked": ("Booked (ledger)", "账面余额（总账）"),
    "statement_date": ("Statement date", "对账单日期"),
    "bank_value_dated": ("Bank, value-dated", "银行余额（按起息日）"),
    "difference_at_statement": ("Ledger less bank at the statement date", "对账单日账面与银行差额"),
    "other_cash_accounts": ("Other cash accounts (ledger)", "其他现金科目（总账）"),
    "total_in": ("Total", "合计"),
    "position_recovering": ("The live cash position is being rebuilt", "实时资金头寸正在重建"),
    "position_recovering_detail": (
        "Its worker is restarting or recovering its tables from the event log. The position is a view over the "
        "ledger's and the bank's events, never the books: nothing is lost, and the figures appear here by "
        "themselves (this section asks again every 5 seconds).",
        "资金头寸服务正在重启或从事件日志恢复其数据表。资金头寸是基于总账与银行事件的视图，并非账簿本身："
        "数据不会丢失，恢复后数字会自动显示在此处（本区域每 5 秒重新查询一次）。"),
    "position_shared_gl": ("shares its ledger account with", "与以下账户共用总账科目："),
}


def negotiate(choice: str | None, accept_language: str | None) -> str:
    """The user's choice if it is a language we have, else the best of Accept-Language, else English."""
    if choice in LANGUAGES:
        return choice
    prefs = []
    for i, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if tag:
            prefs.append((-q, i, tag.strip().lower()))
    for neg_q, _, tag in sorted(prefs):
        if neg_q < 0 and tag.split("-")[0] in LANGUAGES:
            return tag.split("-")[0]
    return DEFAULT


class Translator:
    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in LANGUAGES else DEFAULT
        self.locale = Locale.parse(LANGUAGES[self.lang])

    def __call__(self, key: str) -> str:
        en, zh = MESSAGES.get(key, (key, key))
        return zh if self.lang == "zh" else en

    def amount(self, value: Decimal | str | None, currency: str) -> str:
        """An amount at its currency's minor unit (fincore.money), grouped per locale."""
        if value in (None, ""):
            return "—"
        q = money.quantize(Decimal(value), currency)
        digits = money.minor_units(currency)
        return format_decimal(q, format="#,##0" + ("." + "0" * digits if digits else ""), locale=self.locale)

    def percent(self, value: Decimal | str | None) -> str:
        if value in (None, ""):
            return "—"
        return format_decimal(Decimal(value), format="#,##0.0", locale=self.locale) + " %"

    def date(self, value: dt.date | str) -> str:
        d = dt.date.fromisoformat(value) if isinstance(value, str) else value
        return format_date(d, format="medium", locale=self.locale)

    def datetime(self, value: dt.datetime) -> str:
        return format_datetime(value, format="medium", locale=self.locale)

    def account_name(self, row: dict) -> str:
        """CAS/IFRS accounts carry both names; show the user's."""
        return (row.get("name_zh") if self.lang == "zh" else row.get("name_en")) or row.get("name_en") or ""
