"""The one error root and a subclass per boundary.

Each class's docstring is its default message. Messages never carry secrets
(bot tokens, passwords): callers pass names and paths, not apprise URLs.
"""

from __future__ import annotations


class MonitorError(Exception):
    """monitor failed."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or (self.__doc__ or "").strip())


class ConfigError(MonitorError):
    """The configuration is invalid."""

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("; ".join(self.problems))


class FetchError(MonitorError):
    """A feed or page could not be fetched."""


class FeedParseError(MonitorError):
    """A feed could not be parsed."""


class ExtractError(MonitorError):
    """No article text could be extracted from the page."""


class StoreError(MonitorError):
    """The store is unusable."""


class NotifyError(MonitorError):
    """A notification could not be delivered."""


class BudgetError(FeedParseError):
    """A source went over its budget (bytes, nesting, items or elements)."""
