"""One verification: wait for the consumers to drain (I5), read each company's snapshot, run
the checks; on a system still settling (an event in flight between two services), read
again until the breaches are gone or the settle time has run out, so what is reported is
what stayed wrong. Breaches a caller expects (a scenario that parks or poisons on purpose)
are passed in and reported apart: an expected breach that did not happen is reported too."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from finverify import checks
from finverify.checks import Breach, Snapshot
from finverify.read import Api, TopicReader, wait_for_lag


@dataclass(frozen=True)
class Expected:
    """A breach a scenario leaves on purpose: `invariant` in `company`, on a subject that
    contains `subject` and a text that contains `detail` (empty: any), with the reason
    written down."""

    invariant: str
    company: str
    subject: str = ""
    reason: str = ""
    detail: str = ""

    def matches(self, b: Breach) -> bool:
        return (b.invariant == self.invariant and b.company == self.company and self.subject in b.subject
                and self.detail in b.detail)


@dataclass
class Result:
    breaches: list[Breach] = field(default_factory=list)  # unexpected: the run fails on any
    expected: list[tuple[Expected, list[Breach]]] = field(default_factory=list)
    explained: list[Breach] = field(default_factory=list)  # differences with their reconciling items, not breaches
    not_run: dict[str, list[str]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)  # what was read
    lag: dict[str, dict[str, int]] = field(default_factory=dict)
    lag_drained_s: float | None = None
    attempts: int = 0
    seconds: float = 0.0
    undecodable: list[str] = field(default_factory=list)
    transient: int = 0  # 5xx answers or dropped connections asked again (a service recovering)

    @property
    def ok(self) -> bool:
        return not self.breaches

    def report(self) -> str:
        lines = [f"finance-verify: {len(self.breaches)} breach(es); {self.counts.get('companies', 0)} companies, "
                 f"{self.counts.get('journals', 0)} journals, {self.counts.get('lines', 0)} lines, "
                 f"{self.counts.get('events', 0)} events read; {self.attempts} reading(s) in {self.seconds:.1f}s"
                 + (f"; {self.transient} transient error(s) asked again" if self.transient else "")]
        if self.lag_drained_s is not None:
            lines.append(f"I5 consumer lag: {'drained' if not any(checks.check_lag(self.lag)) else 'NOT drained'} "
                         f"({sum(len(p) for p in self.lag.values())} partitions of {len(self.lag)} groups, "
                         f"waited {self.lag_drained_s:.1f}s)")
        for b in self.breaches:
            lines.append(f"BREACH {b}")
        for b in self.explained:
            lines.append(f"explained {b}")
        for exp, hits in self.expected:
            state = f"{len(hits)} expected breach(es)" if hits else "expected breach NOT found"
            what = f"{exp.subject!r}" + (f" {exp.detail!r}" if exp.detail else "")
            lines.append(f"expected {exp.invariant} {exp.company} {what} ({exp.reason}): {state}")
        for company, missing in sorted(self.not_run.items()):
            if missing:
                lines.append(f"not run for {company}: {', '.join(missing)}")
        for u in self.undecodable[:20]:
            lines.append(f"undecodable record (the ledger dead-letters these): {u}")
        return "\n".join(lines)


def verify(api: Api, companies: Iterable[str] | None = None, *, bootstrap: str | None = None,
           reader: TopicReader | None = None, groups: Iterable[str] | None = None, group_prefix: str = "",
           only: Iterable[str] = checks.INVARIANTS, expected: Iterable[Expected] = (), settle_s: float = 30,
           lag_timeout_s: float = 120, poll_s: float = 1.0) -> Result:
    """Check `companies` (None: every company the token grants). `bootstrap` (Kafka) enables
    I2 and I5 (the topics the ledger reads, and the consumer groups' lag). While breaches remain
    (or an expected one is not there yet), read again every `poll_s` until `settle_s` has run out."""
    start = time.monotonic()
    only, expected = set(only), list(expected)
    res = Result()
    if bootstrap and "I5" in only:
        res.lag, res.lag_drained_s = wait_for_lag(bootstrap, groups, lag_timeout_s, group_prefix)
    if bootstrap and "I2" in only and reader is None:
        reader = TopicReader(bootstrap, api.posting_topics())
    all_companies = {c["id"]: c for c in api.companies()}
    wanted = sorted(all_companies) if companies is None else sorted(set(companies))
    deadline = time.monotonic() + settle_s
    while True:
        res.attempts += 1
        events = reader.catch_up() if reader is not None and "I2" in only else None
        found: list[Breach] = checks.check_lag(res.lag) if "I5" in only else []
        counts = {"companies": len(wanted), "journals": 0, "lines": 0, "events": 0}
        explained: list[Breach] = []
        for cid in wanted:
            company = all_companies.get(cid)
            if company is None:
                found.append(Breach("I1", cid, "company", "not in the ledger (or not granted to the token)"))
                continue
            snap: Snapshot = api.snapshot(company, events)
            found += checks.run_checks(snap, only)
            explained += snap.explained
            res.not_run[cid] = checks.not_run(snap)
            counts["journals"] += len(snap.journals)
            counts["lines"] += len(snap.lines)
            counts["events"] += len(snap.events or [])
        res.counts = counts
        unexpected = [b for b in found if not any(e.matches(b) for e in expected)]
        missing = [e for e in expected if not any(e.matches(b) for b in found)]
        if (not unexpected and not missing) or time.monotonic() >= deadline:
            break
        time.sleep(poll_s)
    res.breaches = unexpected
    res.explained = explained
    res.expected = [(e, [b for b in found if e.matches(b)]) for e in expected]
    res.undecodable = list(reader.undecodable) if reader is not None else []
    res.transient = api.transient
    res.seconds = time.monotonic() - start
    return res
