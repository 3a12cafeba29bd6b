"""The only module that talks HTTP (httpx): GET with conditional headers and a size cap."""
from __future__ import annotations

import logging
from dataclasses import dataclass

import httpx

from .errors import FetchError

log = logging.getLogger(__name__)

MAX_BYTES = 10 * 1024 * 1024   # a news page or feed is far smaller; protects memory


@dataclass(frozen=True)
class FetchResult:
    """What a GET returned. `not_modified` is True for a 304 (content is empty)."""

    url: str                 # final URL after redirects
    status: int
    content: bytes
    content_type: str
    etag: str | None
    last_modified: str | None
    not_modified: bool = False


class Fetcher:
    """A shared httpx client; thread-safe for concurrent GETs."""

    def __init__(self, *, timeout: float, user_agent: str, max_bytes: int = MAX_BYTES,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.max_bytes = max_bytes
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout), follow_redirects=True, max_redirects=5,
            headers={"User-Agent": user_agent, "Accept-Language": "ar,en;q=0.5"},
            transport=transport, limits=httpx.Limits(max_connections=32, max_keepalive_connections=16))

    def close(self) -> None:
        self._client.close()

    def get(self, url: str, *, etag: str | None = None, last_modified: str | None = None) -> FetchResult:
        """GET `url`; raise FetchError naming the URL and the cause on any failure."""
        if not url.lower().startswith(("http://", "https://")):
            raise FetchError(f"GET {url}: only http and https URLs are fetched")
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        try:
            with self._client.stream("GET", url, headers=headers) as resp:
                if resp.status_code == 304:
                    return FetchResult(str(resp.url), 304, b"", "", etag, last_modified, True)
                if resp.status_code >= 400:
                    raise FetchError(f"GET {url}: HTTP {resp.status_code}")
                chunks, size = [], 0
                for chunk in resp.iter_bytes():
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise FetchError(f"GET {url}: body larger than {self.max_bytes} bytes")
                    chunks.append(chunk)
                return FetchResult(
                    url=str(resp.url), status=resp.status_code, content=b"".join(chunks),
                    content_type=resp.headers.get("content-type", ""),
                    etag=resp.headers.get("etag"), last_modified=resp.headers.get("last-modified"))
        except FetchError:
            raise
        except httpx.TooManyRedirects:
            raise FetchError(f"GET {url}: more than 5 redirects") from None
        except httpx.TimeoutException:
            raise FetchError(f"GET {url}: timed out") from None
        except httpx.HTTPError as exc:
            raise FetchError(f"GET {url}: {type(exc).__name__}: {exc}") from None
