import datetime as dt
import random
from decimal import Decimal

import pytest
from inventory.domain.costing import FIFO, MOVING_AVERAGE, Movement, NegativeStock, replay

D = dt.date(2026, 11, 1)


def mv(i, kind, qty, cost=None, day=0, ret=None):
    return Movement(f"m{i}", D + dt.timedelta(days=day), i, kind, Decimal(qty),
                    Decimal(cost) if cost is not None else None, ret)


# The textbook example: receipts of 100 @ 10.00 and 100 @ 12.00, then issues of 150 and 30.
TEXTBOOK = [mv(1, "receipt", 100, "10.00", 0), mv(2, "receipt", 100, "12.00", 1),
            mv(3, "issue", 150, day=2), mv(4, "issue", 30, day=3)]


def test_fifo_textbook():
    stock, costs = replay(FIFO, "CNY", TEXTBOOK)
    assert costs["m3"] == Decimal("1600.00")  # 100 x 10 + 50 x 12
    assert costs["m4"] == Decimal("360.00")  # 30 x 12
    assert (stock.quantity, stock.value) == (Decimal(20), Decimal("240.00"))


def test_moving_average_textbook():
    stock, costs = replay(MOVING_AVERAGE, "CNY", TEXTBOOK)
    assert costs["m3"] == Decimal("1650.00")  # 150 x 11.00
    assert costs["m4"] == Decimal("330.00")  # 30 x 11.00
    assert (stock.quantity, stock.value) == (Decimal(20), Decimal("220.00"))


def test_zero_quantity_leaves_zero_value_despite_rounding():
    ms = [mv(1, "receipt", 3, "10.00"), mv(2, "receipt", 1, "10.01"), mv(3, "issue", 1, day=1),
          mv(4, "issue", 1, day=1), mv(5, "issue", 2, day=2)]
    for method in (FIFO, MOVING_AVERAGE):
        stock, costs = replay(method, "CNY", ms)
        assert stock.quantity == 0 and stock.value == 0
        assert sum(costs[f"m{i}"] for i in (3, 4, 5)) == Decimal("40.01")


def test_negative_stock_is_refused():
    with pytest.raises(NegativeStock, match="issuing 5 with 3 on hand"):
        replay(FIFO, "CNY", [mv(1, "receipt", 3, "1"), mv(2, "issue", 5, day=1)])


def test_customer_return_re_enters_at_the_issue_cost():
    ms = [*TEXTBOOK, mv(5, "customer_return", 10, day=4, ret="m3")]
    stock, costs = replay(FIFO, "CNY", ms)
    assert costs["m5"] == Decimal("106.67")  # 10 x (1600 / 150)
    assert stock.quantity == 30


@pytest.mark.parametrize("method", [FIFO, MOVING_AVERAGE])
def test_in_order_and_out_of_order_arrival_end_identical(method):
    rnd = random.Random(7)
    ms, on_hand = [], Decimal(0)
    for i in range(300):
        day = i // 3
        if on_hand < 5 or rnd.random() < 0.4:
            q = Decimal(rnd.randint(1, 20))
            ms.append(mv(i, "receipt", q, f"{rnd.randint(500, 1500) / 100:.2f}", day))
            on_hand += q
        else:
            q = Decimal(rnd.randint(1, int(min(on_hand, 10))))
            ms.append(mv(i, "issue", q, day=day))
            on_hand -= q
    in_order = replay(method, "CNY", ms)
    shuffled = ms[:]
    rnd.shuffle(shuffled)  # arrival order differs; dates and sequence numbers decide the costing
    out_of_order = replay(method, "CNY", shuffled)
    assert in_order[0].value == out_of_order[0].value and in_order[1] == out_of_order[1]


@pytest.mark.parametrize("method", [MOVING_AVERAGE, FIFO])
def test_a_revaluation_recosts_the_stock_on_hand_from_its_date(method):
    # 10 @ 50.00 received, 4 issued; a price difference of 12.00 (6 on hand x 2.00) on day 2;
    # the 2 issued on day 3 leave at 52.00, the 4 left are worth 4 x 52 = 208.00.
    movements = [mv(1, "receipt", 10, "50.00", 0), mv(2, "issue", 4, day=1), mv(4, "issue", 2, day=3),
                 Movement("m3", D + dt.timedelta(days=2), 3, "revaluation", Decimal(0), value=Decimal("12.00"))]
    stock, costs = replay(method, "CNY", movements)
    assert (costs["m2"], costs["m3"], costs["m4"]) == (Decimal("200.00"), Decimal("12.00"), Decimal("104.00"))
    assert (stock.quantity, stock.value) == (Decimal(4), Decimal("208.00"))


def test_fifo_spreads_a_revaluation_over_its_layers():
    movements = [mv(1, "receipt", 10, "1.00", 0), mv(2, "receipt", 30, "2.00", 0),
                 Movement("m3", D, 3, "revaluation", Decimal(0), value=Decimal("4.00")), mv(4, "issue", 10, day=1)]
    stock, costs = replay(FIFO, "CNY", movements)
    assert costs["m4"] == Decimal("11.00")  # the first layer took 4.00 x 10/40 = 1.00
    assert stock.value == Decimal("63.00")


def test_a_revaluation_needs_stock():
    from inventory.domain.costing import CostingError

    with pytest.raises(CostingError, match="no stock on hand"):
        replay(MOVING_AVERAGE, "CNY", [Movement("m1", D, 1, "revaluation", Decimal(0), value=Decimal("1.00"))])
