"""Asking an API over HTTP: timeouts, retries with backoff, a pause between requests, keys kept secret.

One :class:`Client` a fetch: a ``requests`` session whose adapter retries with urllib3's
:class:`~urllib3.util.retry.Retry` (the maintained way, no loop of our own): an answer 429 (too
many requests) or 5xx is asked again, up to ``attempts`` times in all, after a backoff that
doubles (or the ``Retry-After`` the API sends, at most ``max_wait`` seconds), and so is a read
that timed out. A connection that cannot be made is not retried: without network the fetch
fails at once, saying so. Between two requests the client waits ``spacing`` seconds (the APIs'
rate limits). Redirects are not followed: the APIs answer directly, and a redirect would carry
a key to another host.

Keys never leave the request: every URL a message shows is the request without its key
(:meth:`Client.shown_url`), every error text passes :meth:`Client.redact`, and while a client
is open urllib3's own log lines (which name the full URL) are redacted too.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import quote, quote_plus, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry


class FetchError(Exception):
    """A fetch that cannot go on; the message names the URL (without key) and what was wrong.
    Nothing is written when it is raised."""


class NoNetwork(FetchError):
    """The API's host cannot be reached at all (no network, no name resolution, refused)."""


class NotReleasedYet(FetchError):
    """The period the fetch asks for is not in the API yet: nothing new to download."""


# Statuses asked again: too many requests, and the server's own faults.
RETRY_STATUSES = (429, 500, 502, 503, 504)


def _seconds(name: str, default: float) -> float:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        return float(value)
    except ValueError:
        raise FetchError(f"{name}={value!r} is not a number of seconds") from None


@dataclass(frozen=True)
class HttpSettings:
    """How a client asks: timeouts, attempts, backoff, the longest wait and the pause between
    requests (each from the environment, for a stand-in server or a slow line)."""

    connect_timeout: float = 10.0
    read_timeout: float = 120.0
    attempts: int = 3
    backoff: float = 2.0  # seconds: the second retry waits twice this, the third four times …
    max_wait: float = 120.0  # the longest Retry-After obeyed
    spacing: float = 1.0  # seconds between two requests

    @classmethod
    def from_env(cls) -> HttpSettings:
        attempts = int(_seconds("BULLETIN_FETCH_ATTEMPTS", cls.attempts))
        return cls(
            connect_timeout=_seconds("BULLETIN_FETCH_CONNECT_TIMEOUT", cls.connect_timeout),
            read_timeout=_seconds("BULLETIN_FETCH_READ_TIMEOUT", cls.read_timeout),
            attempts=max(attempts, 1),
            backoff=_seconds("BULLETIN_FETCH_BACKOFF_SECONDS", cls.backoff),
            max_wait=_seconds("BULLETIN_FETCH_MAX_WAIT_SECONDS", cls.max_wait),
            spacing=_seconds("BULLETIN_FETCH_SPACING_SECONDS", cls.spacing),
        )

    def retry(self) -> Retry:
        again = self.attempts - 1
        return Retry(
            total=again,
            connect=0,  # no network: fail at once
            read=again,
            status=again,
            other=0,
            redirect=0,
            allowed_methods=frozenset({"GET"}),
            status_forcelist=RETRY_STATUSES,
            backoff_factor=self.backoff / 2,  # urllib3 doubles it from the second retry on
            backoff_max=self.max_wait,
            respect_retry_after_header=True,
            retry_after_max=int(self.max_wait),
            raise_on_status=False,  # the last answer is returned, and said in our words
            raise_on_redirect=False,
        )


@dataclass
class Answer:
    """What the API answered: its status and body, and the request shown without its key."""

    url: str
    status: int
    body: bytes
    attempts: int
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        """No content: 204, or a body of nothing but blanks."""
        return self.status == 204 or not self.body.strip()


class _Redact(logging.Filter):
    """Replaces the secrets in a log record's text (urllib3 logs the full URL of a request)."""

    def __init__(self, client: Client) -> None:
        super().__init__()
        self.client = client

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        redacted = self.client.redact(text)
        if redacted != text:
            record.msg, record.args = redacted, ()
        return True


URLLIB3_LOGGERS = ("urllib3.connectionpool", "urllib3.util.retry", "urllib3.response", "urllib3")


class Client:
    """One source's API: ``base_url`` and the secret query parameters and headers of its key.

    Use it as a context manager (it closes its session and removes its log filter)."""

    def __init__(
        self,
        source: str,
        base_url: str,
        settings: HttpSettings | None = None,
        secret_params: Mapping[str, str] | None = None,
        secret_headers: Mapping[str, str] | None = None,
    ) -> None:
        self.source = source
        self.base_url = base_url.rstrip("/")
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise FetchError(f"{source}: the API's address {base_url!r} is not an http(s) URL")
        self.host = parts.netloc
        self.settings = settings or HttpSettings.from_env()
        self.secret_params = {k: v for k, v in (secret_params or {}).items() if v}
        self.secret_headers = {k: v for k, v in (secret_headers or {}).items() if v}
        self.requests = 0
        self._last: float | None = None
        self.session = requests.Session()
        adapter = HTTPAdapter(max_retries=self.settings.retry())
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers.update({"Accept": "application/json", "User-Agent": "bulletin-pipeline"})
        self._filter = _Redact(self)
        for name in URLLIB3_LOGGERS:
            logging.getLogger(name).addFilter(self._filter)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.session.close()
        for name in URLLIB3_LOGGERS:
            logging.getLogger(name).removeFilter(self._filter)

    @property
    def has_key(self) -> bool:
        return bool(self.secret_params or self.secret_headers)

    def _secrets(self) -> Sequence[str]:
        values = [*self.secret_params.values(), *self.secret_headers.values()]
        forms = set()
        for value in values:
            forms.update({value, quote(value, safe=""), quote_plus(value)})
        return sorted((f for f in forms if f), key=len, reverse=True)

    def redact(self, text: str) -> str:
        """``text`` with every key (as written, or percent-encoded) replaced by ``***``."""
        for secret in self._secrets():
            text = text.replace(secret, "***")
        return text

    def shown_url(self, path: str, params: Mapping[str, str]) -> str:
        """The request's URL as messages show it: without the key."""
        request = requests.Request("GET", self.base_url + path, params=dict(params)).prepare()
        return request.url or self.base_url + path

    def _pause(self) -> None:
        if self._last is not None:
            wait = self.settings.spacing - (time.monotonic() - self._last)
            if wait > 0:
                time.sleep(wait)

    def get(self, path: str, params: Mapping[str, str]) -> Answer:
        """GET ``path`` with ``params`` (and the key); the answer of status 200 or 204, else a
        :class:`FetchError` naming the URL (without the key) and what went wrong."""
        url = self.shown_url(path, params)
        self._pause()
        self.requests += 1
        try:
            response = self.session.get(
                self.base_url + path,
                params={**params, **self.secret_params},
                headers=self.secret_headers,
                timeout=(self.settings.connect_timeout, self.settings.read_timeout),
                allow_redirects=False,
            )
            body = response.content
        except requests.exceptions.ConnectTimeout:
            raise NoNetwork(
                f"{self.source}: {url}: no connection to {self.host} within "
                f"{self.settings.connect_timeout:g} s: no network, or the service is down; nothing written"
            ) from None
        except requests.exceptions.ConnectionError as exc:
            kind = _fault_kind(exc)
            if kind == "timeout":
                raise FetchError(
                    f"{self.source}: {url}: no answer within {self.settings.read_timeout:g} s, "
                    f"{self.settings.attempts} attempts; nothing written"
                ) from None
            if kind == "read":
                raise FetchError(
                    f"{self.source}: {url}: the connection broke while the answer was read "
                    f"({self.redact(_reason(exc))}); nothing written"
                ) from None
            raise NoNetwork(
                f"{self.source}: cannot reach {self.host} ({self.redact(_reason(exc))}): no network, "
                f"or the service is down; nothing written ({url})"
            ) from None
        except requests.exceptions.ReadTimeout:
            raise FetchError(
                f"{self.source}: {url}: no answer within {self.settings.read_timeout:g} s, "
                f"{self.settings.attempts} attempts; nothing written"
            ) from None
        except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError) as exc:
            raise FetchError(
                f"{self.source}: {url}: the answer was cut off before its end ({self.redact(_reason(exc))}); "
                "nothing written"
            ) from None
        except requests.exceptions.RequestException as exc:
            raise FetchError(f"{self.source}: {url}: {self.redact(_reason(exc))}; nothing written") from None
        finally:
            self._last = time.monotonic()
        retries = getattr(getattr(response.raw, "retries", None), "history", ()) or ()
        attempts = len(retries) + 1
        if response.status_code in (200, 204):
            return Answer(url, response.status_code, body, attempts, dict(response.headers))
        raise FetchError(f"{self.source}: {url}: {self._status_text(response, body, attempts)}; nothing written")

    def _status_text(self, response: requests.Response, body: bytes, attempts: int) -> str:
        status = f"HTTP {response.status_code} {response.reason or ''}".strip()
        tried = f" after {attempts} attempts" if attempts > 1 else ""
        if 300 <= response.status_code < 400:
            where = self.redact(response.headers.get("Location", "elsewhere"))
            return f"{status}: the API redirected to {where} (a missing or invalid key?)"
        text = body[:2000].decode("utf-8", "replace").strip()
        if text.lstrip().startswith("<"):
            said = "an HTML page"
        else:
            said = " ".join(text.split())[:300]
        what = {
            429: "too many requests (the API's rate limit)",
            401: "the key was refused",
            403: "the key was refused, or the API allows no more requests today",
        }.get(response.status_code)
        parts = [f"{status}{tried}"]
        if what:
            parts.append(what)
        if said:
            parts.append(f"the API said: {self.redact(said)}")
        return ": ".join(parts)


def _reason(exc: BaseException) -> str:
    """The innermost reason of a requests/urllib3 error, without the pool's long preamble."""
    inner: BaseException = exc
    while True:
        nxt = getattr(inner, "reason", None) or inner.__cause__ or inner.__context__
        if nxt is None or nxt is inner or not isinstance(nxt, BaseException):
            break
        inner = nxt
    text = str(inner) or type(inner).__name__
    # urllib3 prefixes "<urllib3.connection.HTTPConnection object at 0x…>: "
    if ">: " in text:
        text = text.split(">: ", 1)[1]
    return text


def _fault_kind(exc: BaseException) -> str:
    """What a connection error was: ``timeout`` (no answer in time, every attempt), ``read`` (the
    connection broke while an answer was read) or ``connect`` (no connection made at all)."""
    inner: BaseException | None = exc
    seen = 0
    while inner is not None and seen < 10:
        name = type(inner).__name__
        if name in ("ReadTimeoutError", "ReadTimeout", "TimeoutError") and seen:
            return "timeout"
        if name in ("ProtocolError", "IncompleteRead", "InvalidChunkLength", "RemoteDisconnected"):
            return "read"
        if name in ("NewConnectionError", "NameResolutionError", "ConnectTimeoutError"):
            return "connect"
        inner = getattr(inner, "reason", None) or inner.__cause__ or inner.__context__
        seen += 1
    return "connect"
