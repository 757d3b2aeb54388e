"""Drives the plugin as hermes would, without hermes: loads it, calls ``register`` with a stand-in
ctx, fires the recorded callbacks with the kwargs hermes passes, and prints a JSON report on stdout.
Not part of the plugin (hermes imports only ``__init__.py``); test/hermes-plugin*.test.ts run it.

    python3 examples/hermes/test_driver.py '{"fire": [{"hook": "agent_loop_stopped",
        "kwargs": {"session_key": "s1"}}], "flush_timeout": 5}'

Spec keys: ``fire`` (list of ``{hook, kwargs, awkward?, repeat?}``; ``awkward`` adds kwargs JSON
cannot hold as is), ``flush_timeout`` (seconds to wait for delivery; absent: do not wait),
``valid_hooks`` (when present, a stand-in ``hermes_cli.plugins`` with that ``VALID_HOOKS``),
``settings`` (module constants to override before ``register``, e.g. ``{"RETRY_FOR_S": 1}``).
Report: ``registered`` (hook names, in order), ``calls`` (``{hook, ms, error}`` per callback:
how long it took, and what it raised, if anything), ``flushed``, ``logs`` (the plugin's log lines).
"""

from __future__ import annotations

import datetime
import importlib.util
import json
import logging
import sys
import time
import types
from pathlib import Path
from typing import Any, Callable, Dict, List, Tuple

PLUGIN_DIR = Path(__file__).resolve().parent


class Ctx:
    """The part of hermes' plugin context the plugin uses."""

    def __init__(self) -> None:
        self.hooks: List[Tuple[str, Callable[..., Any]]] = []

    def register_hook(self, name: str, callback: Callable[..., Any]) -> None:
        self.hooks.append((name, callback))


class Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("no text for this one")

    __repr__ = __str__


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: List[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.levelname} {record.getMessage()}")


def awkward_kwargs() -> Dict[str, Any]:
    cycle: List[Any] = []
    cycle.append(cycle)
    return {
        "started_at": datetime.datetime(2026, 1, 2, 3, 4, 5),  # sent as str()
        "store": Unprintable(),  # str() raises: left out
        "ratio": float("nan"),  # not JSON: left out
        "cycle": cycle,  # left out
    }


def load_plugin(spec: Dict[str, Any]) -> types.ModuleType:
    if "valid_hooks" in spec:
        hermes_cli = types.ModuleType("hermes_cli")
        plugins = types.ModuleType("hermes_cli.plugins")
        setattr(plugins, "VALID_HOOKS", set(spec["valid_hooks"]))
        setattr(hermes_cli, "plugins", plugins)
        sys.modules["hermes_cli"] = hermes_cli
        sys.modules["hermes_cli.plugins"] = plugins
    module_spec = importlib.util.spec_from_file_location(
        "toolproxy", PLUGIN_DIR / "__init__.py", submodule_search_locations=[str(PLUGIN_DIR)]
    )
    if module_spec is None or module_spec.loader is None:
        raise RuntimeError(f"cannot load the plugin from {PLUGIN_DIR}")
    plugin = importlib.util.module_from_spec(module_spec)
    sys.modules["toolproxy"] = plugin
    module_spec.loader.exec_module(plugin)
    for name, value in spec.get("settings", {}).items():
        setattr(plugin, name, value)
    return plugin


def main() -> None:
    spec: Dict[str, Any] = json.loads(sys.argv[1] if len(sys.argv) > 1 else sys.stdin.read())
    lines = Lines()
    plugin_logger = logging.getLogger("toolproxy")
    plugin_logger.addHandler(lines)
    plugin_logger.setLevel(logging.DEBUG)
    plugin_logger.propagate = False

    plugin = load_plugin(spec)
    ctx = Ctx()
    plugin.register(ctx)
    callbacks = dict(ctx.hooks)

    calls = []
    for fire in spec.get("fire", []):
        hook = fire["hook"]
        kwargs = dict(fire.get("kwargs", {}))
        if fire.get("awkward"):
            kwargs.update(awkward_kwargs())
        for _ in range(fire.get("repeat", 1)):
            error = None
            started = time.perf_counter()
            try:
                callbacks[hook](**kwargs)
            except BaseException as raised:  # the report says; the test fails on it
                error = repr(raised)
            calls.append({"hook": hook, "ms": (time.perf_counter() - started) * 1000, "error": error})

    flush_timeout = spec.get("flush_timeout")
    flushed = None if flush_timeout is None else plugin.flush(flush_timeout)
    report = {
        "registered": [name for name, _ in ctx.hooks],
        "calls": calls,
        "flushed": flushed,
        "logs": lines.lines,
    }
    sys.stdout.write(json.dumps(report) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
