"""fincore.inbox.Handlers: one consumer of a topic serving several concerns."""

from fincore.inbox import Handlers


class Recorder:
    def __init__(self, name: str, calls: list, *, hook: bool) -> None:
        self.name, self.calls = name, calls
        if hook:
            self.before_commit = self._before_commit

    async def __call__(self, session, env) -> None:
        self.calls.append((self.name, env))

    async def _before_commit(self, session) -> None:
        self.calls.append((self.name, "before_commit"))


async def test_every_handler_sees_every_event_in_order_and_the_batch_hooks_run():
    calls: list = []
    both = Handlers(Recorder("actuals", calls, hook=True), Recorder("rates", calls, hook=False))
    await both(None, "e1")
    await both(None, "e2")
    await both.before_commit(None)
    assert calls == [("actuals", "e1"), ("rates", "e1"), ("actuals", "e2"), ("rates", "e2"),
                     ("actuals", "before_commit")]
