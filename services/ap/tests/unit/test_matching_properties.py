"""Three-way match, property-based: however a received quantity is invoiced in parts and at
whatever prices, the parts clear exactly the received value from GRNI, and every line's net
is its GRNI clearing plus its price variance."""

from decimal import Decimal as D

from ap.domain.matching import InvoiceLine, OrderLine, Tolerances, three_way_match
from hypothesis import given, settings
from hypothesis import strategies as st

cents = st.integers(min_value=1, max_value=10_000_00).map(lambda c: D(c) / 100)


@settings(max_examples=300, deadline=None)
@given(received_qty=st.integers(1, 500), value=cents, parts=st.lists(st.integers(1, 50), min_size=1, max_size=8),
       price=st.integers(1, 100_000).map(lambda c: D(c) / 100))
def test_invoicing_a_receipt_in_parts_clears_its_value_exactly(received_qty, value, parts, price):
    # split the received quantity into len(parts) positive pieces
    total_w = sum(parts)
    pieces = [max(1, received_qty * w // total_w) for w in parts]
    while sum(pieces) > received_qty:
        pieces[pieces.index(max(pieces))] -= 1
    pieces = [p for p in pieces if p > 0]
    pieces[-1] += received_qty - sum(pieces)
    state = OrderLine(1, "X", D(received_qty), price, D(received_qty), value)
    cleared_total = D(0)
    for qty in pieces:
        r = three_way_match([state], [InvoiceLine("X", D(qty), price, "VAT13")], "EUR",
                            Tolerances(price_pct=D(100)))
        assert r.matched, r.reasons
        (ln,) = r.lines
        assert ln.net == ln.grni_cleared + ln.price_variance
        assert ln.grni_cleared == ln.grni_cleared.quantize(D("0.01"))
        cleared_total += ln.grni_cleared
        state = OrderLine(1, "X", D(received_qty), price, D(received_qty), value, state.invoiced_qty + qty,
                          state.grni_cleared + ln.grni_cleared)
    assert cleared_total == value  # GRNI is zero once the receipt is fully invoiced
    over = three_way_match([state], [InvoiceLine("X", D(1), price, "VAT13")], "EUR", Tolerances(price_pct=D(100)))
    assert not over.matched  # nothing more can be invoiced than was received
