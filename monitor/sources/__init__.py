"""Source kinds: each turns fetched bytes into FeedItems."""
