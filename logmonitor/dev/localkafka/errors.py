"""The one error type of the local broker tooling: a message that says what to do next."""

__all__ = ["LocalKafkaError"]


class LocalKafkaError(RuntimeError):
    """The local broker cannot be set up, started or stopped; ``str()`` says why and what to do."""
