"""toolproxy for hermes-agent: forward the hooks that end an agent loop to toolproxy's hook ingress.

When hermes stops an agent loop (``/stop``, ``/new``, an interrupt) or finalizes or resets a
session, toolproxy must cancel that session's pending tool calls at once, so the providers stop
working. Each hook's kwargs are POSTed as JSON to ``<TOOLPROXY_URL>/hooks/<hook name>``.

hermes runs ``agent_loop_stopped`` and ``on_session_finalize`` synchronously on its event loop,
with no timeout, so a callback here never does I/O: it encodes the kwargs, puts them on a small
bounded queue and returns (tens of microseconds). One daemon thread delivers them, each POST bounded
by a short timeout. When the proxy is down or slow the queue does not grow: events beyond its
capacity, and events that waited too long to still be meaningful, are dropped with a debug log.
Nothing here ever raises into hermes.

Standard library only. Environment:

- ``TOOLPROXY_URL``: the proxy, default ``http://127.0.0.1:7300``.
- ``TOOLPROXY_HOOK_SECRET``: sent as ``Authorization: Bearer <secret>`` when set (the proxy asks
  for it when it is bound to an address other than loopback; it is the proxy's signing secret).
"""

from __future__ import annotations

import collections
import json
import logging
import os
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Callable, Deque, Dict, Optional, Tuple

try:
    from hermes_cli.plugins import VALID_HOOKS
except Exception:  # not inside hermes, or a hermes that moved it: register every hook
    VALID_HOOKS = None

logger = logging.getLogger(__name__)

DEFAULT_URL = "http://127.0.0.1:7300"
#: Seconds allowed to connect, and to read the answer, for one POST.
TIMEOUT_S = 1.0
#: Events waiting for delivery at most; more are dropped, not queued.
QUEUE_CAPACITY = 16
#: Seconds an event may wait in the queue. A stop delivered much later than this could cancel the
#: calls of the session's next turn, so it is dropped instead.
MAX_AGE_S = 5.0

#: The hooks forwarded. ``agent_loop_stopped`` is newer than the other two; see ``hooks_to_register``.
HOOKS = ("agent_loop_stopped", "on_session_finalize", "on_session_reset")

# (hook name, JSON body, monotonic time it was queued)
_Event = Tuple[str, bytes, float]


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


def _forwarder(hook: str) -> Callable[..., None]:
    def forward(**kwargs: Any) -> None:
        try:
            body = encode_kwargs(kwargs)
            if not _sender.submit((hook, body, time.monotonic())):
                logger.debug("toolproxy: %s dropped: %d events already waiting", hook, QUEUE_CAPACITY)
        except Exception:
            logger.debug("toolproxy: %s not forwarded", hook, exc_info=True)

    forward.__name__ = f"toolproxy_{hook}"
    forward.__qualname__ = forward.__name__
    return forward


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


# Environment proxies (HTTP_PROXY...) are ignored: the proxy is usually on loopback, and a hook
# must not take a detour through a corporate proxy, nor follow it anywhere else.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _deliver(event: _Event) -> None:
    hook, body, queued_at = event
    waited = time.monotonic() - queued_at
    if waited > MAX_AGE_S:
        logger.debug("toolproxy: %s dropped: stale after %.1f s in the queue", hook, waited)
        return
    base = os.environ.get("TOOLPROXY_URL") or DEFAULT_URL
    url = hook_url(base, hook)
    if url is None:
        logger.debug("toolproxy: %s not delivered: TOOLPROXY_URL %r is not an http(s) URL", hook, base)
        return
    headers = {"Content-Type": "application/json"}
    secret = os.environ.get("TOOLPROXY_HOOK_SECRET")
    if secret:
        headers["Authorization"] = f"Bearer {secret}"
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _opener.open(request, timeout=TIMEOUT_S) as response:
            response.read(64 * 1024)
            logger.debug("toolproxy: %s delivered (%d)", hook, response.status)
    except urllib.error.HTTPError as error:
        logger.debug("toolproxy: %s refused by the proxy (%d): %s", hook, error.code, _error_text(error))
    except Exception as error:
        logger.debug("toolproxy: %s not delivered to %s: %r", hook, url, error)


def _error_text(error: urllib.error.HTTPError) -> str:
    try:
        return error.read(2_000).decode("utf-8", "replace")
    except Exception:
        return ""


class _Sender:
    """A bounded queue and one daemon worker thread, started on first use (and again after a fork,
    which leaves the child without it)."""

    def __init__(self, deliver: Callable[[_Event], None], capacity: int) -> None:
        self._deliver = deliver
        self._capacity = capacity
        self._events: Deque[_Event] = collections.deque()
        self._busy = False
        self._changed = threading.Condition()
        self._thread: Optional[threading.Thread] = None

    def submit(self, event: _Event) -> bool:
        """Queues ``event``; False (and nothing queued) when the queue is full. Never blocks on I/O."""
        with self._changed:
            if len(self._events) >= self._capacity:
                return False
            self._events.append(event)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="toolproxy-hooks", daemon=True)
                self._thread.start()
            self._changed.notify_all()
            return True

    def flush(self, timeout: float) -> bool:
        """Waits until every queued event has been handled; False if ``timeout`` (s) passed first."""
        with self._changed:
            return self._changed.wait_for(lambda: not self._events and not self._busy, timeout)

    def _run(self) -> None:
        while True:
            with self._changed:
                self._busy = False
                self._changed.notify_all()
                self._changed.wait_for(lambda: bool(self._events))
                event = self._events.popleft()
                self._busy = True
            try:
                self._deliver(event)
            except Exception:
                logger.debug("toolproxy: delivery failed", exc_info=True)


_sender = _Sender(_deliver, QUEUE_CAPACITY)


def flush(timeout: float = 5.0) -> bool:
    """Waits for the queued hooks to be delivered or dropped (for tests and scripts; hermes never
    needs it). True when none is left."""
    return _sender.flush(timeout)
