"""monitor: watch Arabic news feeds, match topics, alert on Telegram and email."""

__version__ = "0.1.0"
