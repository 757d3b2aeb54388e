"""toolproxy for hermes-agent: forward the hooks that end an agent loop to toolproxy's hook ingress.

When hermes stops an agent loop (``/stop``, ``/new``, an interrupt) or finalizes or resets a
session, toolproxy must cancel that session's pending tool calls at once, so the providers stop
working. Each hook's kwargs are POSTed as JSON to ``<TOOLPROXY_URL>/hooks/<hook name>``.

hermes runs ``agent_loop_stopped`` and ``on_session_finalize`` synchronously on its event loop,
with no timeout, so a callback here never does I/O: it encodes the kwargs, files them and returns.
A few daemon threads deliver them. A stop is idempotent, so a stop for a session that still has one
waiting replaces it rather than queueing a copy. One the proxy could not take (down, restarting,
too slow) is retried with backoff for ``RETRY_FOR_S``, then given up with a warning. Nothing here
ever raises into hermes. Standard library only. Environment (read at each delivery):

- ``TOOLPROXY_URL``: the proxy, default ``http://127.0.0.1:7300``.
- ``TOOLPROXY_HOOK_SECRET``: sent as ``Authorization: Bearer <secret>`` when set (the proxy asks
  for it when it is bound to an address other than loopback; it is the proxy's signing secret).

Each POST carries ``X-Toolproxy-Event-Age-Ms``: the milliseconds since hermes raised the event,
measured anew for each try. A stop that gets through only after retries then cancels just the calls
that had started when it was raised, not those of the turn that began meanwhile.
"""

from __future__ import annotations

import collections
import http.client
import json
import logging
import os
import threading
import time
import urllib.parse
from typing import Any, Callable, Dict, List, Optional, Set, Tuple

try:
    from hermes_cli.plugins import VALID_HOOKS
except Exception:  # not inside hermes, or a hermes that moved it: register every hook
    VALID_HOOKS = None

logger = logging.getLogger(__name__)

DEFAULT_URL = "http://127.0.0.1:7300"
#: Seconds allowed to connect, and to read the answer, for one POST.
TIMEOUT_S = 1.0
#: Seconds after it was raised that an event is still tried. Later, it is given up: a stop
#: delivered much later could cancel the calls of the session's next turn.
RETRY_FOR_S = 10.0
#: Seconds before the first retry, doubled after each failure up to RETRY_MAX_S.
RETRY_FIRST_S = 0.05
RETRY_MAX_S = 1.0
#: Sessions with an event waiting, at most; an event for one more is dropped (memory stays
#: bounded whatever hermes does). Events for a session already waiting replace it.
CAPACITY = 1024
#: Threads delivering at once, so one slow answer does not hold up every other session's stop.
WORKERS = 4
#: Answers worth another try: the proxy is starting, overloaded or behind a gateway that is.
RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
#: The header saying how long ago the event was raised (ms); the proxy accepts 0 to MAX_AGE_MS.
AGE_HEADER = "X-Toolproxy-Event-Age-Ms"
MAX_AGE_MS = 600_000

#: The hooks forwarded (``agent_loop_stopped`` is the newest: see ``hooks_to_register``), each with
#: the kwargs naming the session it is about. Events for one (hook, session) coalesce.
_SESSION_KWARGS = {
    "agent_loop_stopped": ("session_key",),
    "on_session_finalize": ("session_id",),
    "on_session_reset": ("old_session_id", "session_id"),
}
HOOKS = tuple(_SESSION_KWARGS)


def hooks_to_register() -> Tuple[str, ...]:
    """Every hook this hermes knows of. An unknown name would only warn, and never fire."""
    if VALID_HOOKS is None:
        return HOOKS
    return tuple(hook for hook in HOOKS if hook in VALID_HOOKS)


def register(ctx: Any) -> None:
    """hermes' entry point: registers one forwarding callback per hook."""
    for hook in hooks_to_register():
        try:
            ctx.register_hook(hook, _forwarder(hook))
        except Exception:
            logger.debug("toolproxy: could not register %s", hook, exc_info=True)
    # Started now, so the first hook does not pay for starting threads on hermes' event loop.
    _sender.start()


def _forwarder(hook: str) -> Callable[..., None]:
    def forward(**kwargs: Any) -> None:
        try:
            if not _sender.submit(hook, session_of(hook, kwargs), encode_kwargs(kwargs)):
                logger.debug("toolproxy: %s dropped: %d sessions already waiting", hook, CAPACITY)
        except Exception:
            logger.debug("toolproxy: %s not forwarded", hook, exc_info=True)

    forward.__name__ = f"toolproxy_{hook}"
    forward.__qualname__ = forward.__name__
    return forward


def session_of(hook: str, kwargs: Dict[str, Any]) -> str:
    """The session an event is about, as the proxy reads it; "" when it names none."""
    for name in _SESSION_KWARGS.get(hook, ()):
        value = kwargs.get(name)
        if isinstance(value, str) and value:
            return value
    return ""


def encode_kwargs(kwargs: Dict[str, Any]) -> bytes:
    """The kwargs as a JSON object. A value JSON cannot hold is written with ``str()``; one that
    still cannot be written (``str()`` raises, a cycle, NaN, which the proxy's JSON parser would
    refuse) is left out."""
    members = []
    for key, value in kwargs.items():
        try:
            encoded = json.dumps(value, default=str, allow_nan=False)
        except Exception:
            logger.debug("toolproxy: kwarg %r left out: not JSON-serialisable", key)
            continue
        members.append(f"{json.dumps(str(key))}:{encoded}")
    return ("{" + ",".join(members) + "}").encode("utf-8")


def hook_url(base: str, hook: str) -> Optional[str]:
    """``<base>/hooks/<hook>``, keeping a path prefix of ``base``; None unless http(s)."""
    parts = urllib.parse.urlsplit(base.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    path = parts.path.rstrip("/") + "/hooks/" + urllib.parse.quote(hook, safe=":")
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, "", ""))


# What one delivery attempt came to.
DELIVERED, RETRY, FAILED = "delivered", "retry", "failed"

# Each delivering thread keeps its connection to the proxy open between events (a new one costs
# about a millisecond more per stop). Environment proxies (HTTP_PROXY...) are never used: the
# proxy is usually on loopback, and a stop must not take a detour through a corporate proxy.
_connections = threading.local()


def _post(url: str, body: bytes, headers: Dict[str, str]) -> Tuple[int, bytes]:
    """POSTs on this thread's kept-alive connection; the status and the start of the answer."""
    parts = urllib.parse.urlsplit(url)
    target = (parts.scheme, parts.netloc)
    connection = getattr(_connections, "connection", None)
    if connection is not None and _connections.target != target:
        connection.close()
        connection = None
    reused = connection is not None and connection.sock is not None
    if connection is None:
        https = parts.scheme == "https"
        kind = http.client.HTTPSConnection if https else http.client.HTTPConnection
        connection = kind(parts.hostname or "", parts.port, timeout=TIMEOUT_S)
        _connections.connection, _connections.target = connection, target
    try:
        connection.request("POST", parts.path, body=body, headers=headers)
        response = connection.getresponse()
        text = response.read(64 * 1024)
        if response.will_close or not response.isclosed():
            connection.close()  # the proxy is closing it, or the answer was too long to finish
            _connections.connection = None
        return response.status, text
    except (OSError, http.client.HTTPException) as error:
        connection.close()
        _connections.connection = None
        # A kept-alive connection the proxy had closed meanwhile: once more, on a new one.
        if reused and isinstance(error, (ConnectionError, http.client.RemoteDisconnected)):
            return _post(url, body, headers)
        raise


def age_header(raised_at: float, now: float) -> str:
    """The age of an event raised at ``raised_at`` (``time.monotonic()``), as the header's value:
    whole milliseconds, within what the proxy accepts."""
    return str(min(MAX_AGE_MS, max(0, int((now - raised_at) * 1000))))


def deliver(hook: str, body: bytes, raised_at: Optional[float] = None) -> str:
    """POSTs one event raised at ``raised_at`` (``time.monotonic()``; None: now); DELIVERED,
    RETRY (worth another try) or FAILED (never will be)."""
    base = os.environ.get("TOOLPROXY_URL") or DEFAULT_URL
    url = hook_url(base, hook)
    if url is None:
        logger.warning(
            "toolproxy: %s not delivered: TOOLPROXY_URL %r is not an http(s) URL", hook, base
        )
        return FAILED
    headers = {"Content-Type": "application/json"}
    if raised_at is not None:
        headers[AGE_HEADER] = age_header(raised_at, time.monotonic())
    secret = os.environ.get("TOOLPROXY_HOOK_SECRET")
    if secret:
        headers["Authorization"] = f"Bearer {secret}"
    try:
        status, text = _post(url, body, headers)
    except (OSError, http.client.HTTPException) as error:  # refused, reset, timed out, cut short
        logger.debug("toolproxy: %s not delivered to %s: %r", hook, url, error)
        return RETRY
    if status < 300:
        logger.debug("toolproxy: %s delivered (%d)", hook, status)
        return DELIVERED
    retry = status in RETRY_STATUS
    (logger.debug if retry else logger.warning)(
        "toolproxy: %s refused by the proxy (%d): %s",
        hook, status, text[:2_000].decode("utf-8", "replace"),
    )
    return RETRY if retry else FAILED


class _Event:
    __slots__ = ("hook", "session", "body", "raised_at", "due", "delay")

    def __init__(self, hook: str, session: str, body: bytes, now: float) -> None:
        self.hook, self.session, self.body = hook, session, body
        self.raised_at = self.due = now
        self.delay = RETRY_FIRST_S


_Key = Tuple[str, str]


class _Sender:
    """Waiting events, one per (hook, session), and the daemon threads that deliver them. Started
    by ``register`` (and again after a fork, which leaves the child without its threads)."""

    def __init__(self, deliver_one: Callable[[str, bytes, float], str]) -> None:
        self._deliver = deliver_one
        self._reset()
        if hasattr(os, "register_at_fork"):
            # The child gets neither the threads nor a lock they may have held; the parent keeps
            # delivering what was waiting.
            os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self._changed = threading.Condition()
        self._waiting: "collections.OrderedDict[_Key, _Event]" = collections.OrderedDict()
        self._in_flight: Set[_Key] = set()
        self._threads: List[threading.Thread] = []

    def start(self) -> None:
        with self._changed:  # an RLock: submit calls this with it held
            self._threads = [thread for thread in self._threads if thread.is_alive()]
            while len(self._threads) < WORKERS:
                thread = threading.Thread(target=self._run, name="toolproxy-hooks", daemon=True)
                thread.start()
                self._threads.append(thread)

    def submit(self, hook: str, session: str, body: bytes) -> bool:
        """Files an event, replacing one waiting for the same (hook, session); False (nothing
        filed) at capacity. Never blocks on I/O."""
        now = time.monotonic()
        # An event naming no session coalesces only with an identical one.
        key = (hook, session or body.decode("utf-8", "replace"))
        with self._changed:
            if not self._threads:
                self.start()
            waiting = self._waiting.get(key)
            if waiting is not None:  # the newest stop stands for both, from now
                waiting.body, waiting.raised_at, waiting.due = body, now, now
                waiting.delay = RETRY_FIRST_S
            elif len(self._waiting) >= CAPACITY:
                return False
            else:
                self._waiting[key] = _Event(hook, session, body, now)
            self._changed.notify()
            return True

    def flush(self, timeout: float) -> bool:
        """Waits until every event is delivered or given up; False if ``timeout`` (s) passed."""
        with self._changed:
            return self._changed.wait_for(
                lambda: not self._waiting and not self._in_flight, timeout
            )

    def _next(self) -> Tuple[_Key, _Event]:
        """Takes the first event that is due and whose session is not being delivered already
        (called with the lock held; waits as long as there is none)."""
        while True:
            now = time.monotonic()
            soonest: Optional[float] = None
            for key, event in self._waiting.items():
                if key in self._in_flight:
                    continue
                if event.due <= now:
                    del self._waiting[key]
                    self._in_flight.add(key)
                    return key, event
                soonest = event.due if soonest is None else min(soonest, event.due)
            self._changed.wait(None if soonest is None else soonest - now)

    def _run(self) -> None:
        while True:
            with self._changed:
                key, event = self._next()
            outcome = FAILED
            age = time.monotonic() - event.raised_at
            try:
                # Kept waiting behind slow deliveries past its bound (the last try, at the bound,
                # may itself take TIMEOUT_S): too late to be sent now.
                if age > RETRY_FOR_S + TIMEOUT_S:
                    logger.warning(
                        "toolproxy: %s for %r given up: still waiting after %.1f s",
                        event.hook, event.session, age,
                    )
                else:
                    outcome = self._deliver(event.hook, event.body, event.raised_at)
            except Exception:
                logger.debug("toolproxy: delivery failed", exc_info=True)
            with self._changed:
                self._in_flight.discard(key)
                # A newer event for the session, filed meanwhile, supersedes a retry of this one.
                if outcome == RETRY and key not in self._waiting:
                    self._retry_locked(key, event)
                self._changed.notify_all()

    def _retry_locked(self, key: _Key, event: _Event) -> None:
        now = time.monotonic()
        deadline = event.raised_at + RETRY_FOR_S
        if now >= deadline:
            logger.warning(
                "toolproxy: %s for %r given up: the proxy did not take it within %.1f s",
                event.hook, event.session, RETRY_FOR_S,
            )
            return
        event.due = min(now + event.delay, deadline)
        event.delay = min(event.delay * 2, RETRY_MAX_S)
        self._waiting[key] = event


_sender = _Sender(deliver)


def flush(timeout: float = 5.0) -> bool:
    """Waits for the waiting hooks to be delivered or given up (for tests and scripts; hermes
    never needs it). True when none is left."""
    return _sender.flush(timeout)
