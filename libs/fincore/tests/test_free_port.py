"""fincore.testing.infra.free_port: ports for the services a test starts are drawn below the
kernel's ephemeral range (which outgoing connections also use: a port picked there could be
taken by any client before the service binds it), free when given, and never given twice."""

import socket

from fincore.testing import infra


def test_ports_are_free_distinct_and_below_the_ephemeral_range():
    ports = [infra.free_port() for _ in range(100)]
    assert len(set(ports)) == len(ports)
    if infra._EPHEMERAL_LOW > 11_000:
        assert all(10_000 <= p < infra._EPHEMERAL_LOW for p in ports)
    for p in ports[:10]:
        with socket.socket() as s:
            s.bind(("127.0.0.1", p))  # still free


def test_a_port_in_use_is_not_given(monkeypatch):
    busy = infra.free_port()
    other = infra.free_port()
    infra._given.difference_update({busy, other})
    draws = iter([busy, busy, other])
    monkeypatch.setattr(infra.random, "randrange", lambda lo, hi: next(draws))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", busy))
        taken.listen()
        if infra._EPHEMERAL_LOW > 11_000:
            assert infra.free_port() == other  # the busy one was drawn twice and refused
