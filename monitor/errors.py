"""The one error root and a subclass per boundary.

Each class's docstring is its default message. Messages never carry secrets
(bot tokens, passwords): callers pass names and paths, not apprise URLs.

The whole tree (subclasses live next to the code that raises them):

    MonitorError
      ConfigError            config.yaml, templates, topic files (.problems: every problem)
      FetchError             fetch/: HTTP and network
        HTTPStatusError        fetch/client.py: a non-2xx answer (.status, .retry_after)
        BlockedAddressError    fetch/netguard.py: resolves to a private/reserved address
        UnsafeURLError         fetch/netguard.py: not http(s), credentials, bad port
        DeadlineError          fetch/netguard.py: the request's overall deadline passed
      FeedParseError         sources/: feed, sitemap, OPML or section page unreadable
        BudgetError            over a source's budget (bytes, nesting, items, elements; fetch/budget.py)
      ExtractError           extract/: no article text
        MojibakeError          fetch/encoding.py: text decoded with the wrong charset
      StoreError             storage/: the database is unusable

Delivery never raises for a failed send: it returns a `SendResult` (ok, permanent,
retry_after) that the outbox records, so there is no notify error class.
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


class BudgetError(FeedParseError):
    """A source went over its budget (bytes, nesting, items or elements)."""
