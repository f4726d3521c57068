from fincore.inbox.consumer import Handler, InboxConsumer, PermanentError

__all__ = ["Handler", "InboxConsumer", "PermanentError"]
