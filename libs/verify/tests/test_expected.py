"""A declared breach (a difference a scenario leaves on purpose) matches only the breach it
names: its invariant, company, a part of its subject and, when given, a part of its text."""

from finverify.checks import Breach
from finverify.verify import Expected

BREACH = Breach("I7", "X", "customer K1 CNY", "AR open items - credit vs receivables: sub-ledger 0 != ledger "
                                              "1130.00 (difference -1130.00)")


def test_matches_invariant_company_subject_and_detail():
    assert Expected("I7", "X", "customer K1", "why").matches(BREACH)
    assert Expected("I7", "X", "", "why").matches(BREACH)  # any subject
    assert Expected("I7", "X", "customer K1 CNY", "why", detail="difference -1130.00").matches(BREACH)


def test_does_not_match_another_breach():
    assert not Expected("I2", "X", "customer K1", "why").matches(BREACH)
    assert not Expected("I7", "Y", "customer K1", "why").matches(BREACH)
    assert not Expected("I7", "X", "customer K2", "why").matches(BREACH)
    assert not Expected("I7", "X", "customer K1", "why", detail="difference -1129.99").matches(BREACH)
