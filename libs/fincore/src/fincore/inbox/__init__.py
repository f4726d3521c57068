from fincore.inbox.consumer import Handler, Handlers, InboxConsumer, PermanentError

__all__ = ["Handler", "Handlers", "InboxConsumer", "PermanentError"]
