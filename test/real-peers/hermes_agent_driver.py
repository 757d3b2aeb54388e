"""Drives a real hermes-agent (0.19.0 from PyPI, in the venv scripts/ensure-hermes-agent.mjs makes)
as its gateway would, without a model: hermes' plugin loader loads the shipped toolproxy plugin
from ``$HERMES_HOME/plugins``, hermes' MCP client connects to the ``mcp_servers`` of
``$HERMES_HOME/config.yaml``, and ``invoke_hook("agent_loop_stopped", ...)`` runs on an asyncio
loop standing for hermes' gateway loop, which is how the gateway runs it (synchronously, no time
limit). test/real-peers/hermes-agent.test.ts sends one JSON command per line on stdin; each answer
is one JSON line on stdout (hermes' own output goes to stderr):

- ``{"id", "op": "load", "add_agent_loop_stopped"}``: loads ``$HERMES_HOME/.env``, then
  ``discover_plugins(force=True)``; answers what hermes made of the plugin and the warnings its
  loader logged.
- ``{"id", "op": "mcp"}``: hermes' ``discover_mcp_tools()``; answers the tool names.
- ``{"id", "op": "call", "tool", "args", "context"?}``: answers at once; ``{"event": "result",
  "id", "result"}`` follows when the call ends. Without ``context``, hermes 0.19.0's own tool
  handler runs it (no ``_meta``: this release cannot forward the context). With it, the call goes
  as later releases send it with ``forward_hermes_context: true``: on hermes' own MCP session and
  loop, under its per-server lock, ``call_tool(..., meta={"io.nous.hermes/context": context})``.
- ``{"id", "op": "stop", "kwargs", "env"?, "watch_ms"?}``: sets ``env``, then ``invoke_hook`` on
  the loop; answers when it was invoked (``invoked_at_ms``, epoch; ``invoked_mono_ms``,
  CLOCK_MONOTONIC as Node's ``process.hrtime``), how long it took (``hook_us``)
  and, over the ``watch_ms`` after it, how late the loop's 1 ms ticks came (``max_gap_ms``).
- ``{"id", "op": "flush", "timeout"}``: waits for the plugin's deliveries (True when none left).
- ``{"id", "op": "logs"}``: the plugin's log lines so far.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import threading
import time
from typing import Any, Dict, List, Optional

# The protocol gets stdout to itself; anything hermes prints goes to stderr.
_protocol = os.fdopen(os.dup(1), "w", encoding="utf-8")
os.dup2(2, 1)
sys.stdout = sys.stderr

SERVER = "toolproxy"  # the mcp_servers entry of examples/hermes/config.yaml
PLUGIN_LOGGER = "hermes_plugins.toolproxy"  # hermes loads a user plugin as hermes_plugins.<name>


class Lines(logging.Handler):
    def __init__(self, level: int) -> None:
        super().__init__(level)
        self.lines: List[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.levelname} {record.getMessage()}")


plugin_lines = Lines(logging.DEBUG)
loader_warnings = Lines(logging.WARNING)


def _watch_logs() -> None:
    plugin_logger = logging.getLogger(PLUGIN_LOGGER)
    plugin_logger.addHandler(plugin_lines)
    plugin_logger.setLevel(logging.DEBUG)
    logging.getLogger("hermes_cli.plugins").addHandler(loader_warnings)


class Driver:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop

    def send(self, message: Dict[str, Any]) -> None:
        _protocol.write(json.dumps(message) + "\n")
        _protocol.flush()

    async def handle(self, message: Dict[str, Any]) -> None:
        try:
            answer = await getattr(self, "op_" + message["op"])(message)
            self.send({"id": message["id"], "ok": True, **answer})
        except Exception as error:  # the test fails on it, with the reason
            self.send({"id": message.get("id"), "ok": False, "error": repr(error)})

    async def op_load(self, message: Dict[str, Any]) -> Dict[str, Any]:
        import hermes_cli.plugins as plugins
        from hermes_cli.env_loader import load_hermes_dotenv

        load_hermes_dotenv()  # $HERMES_HOME/.env, as hermes' entry points do at start

        if message.get("add_agent_loop_stopped"):
            # hermes 0.19.0 (the newest on PyPI) has no agent_loop_stopped in VALID_HOOKS; the
            # releases that fire it (GitHub v2026.9.x / 0.21.x) added it there. Added here the
            # same way, before discovery, so the plugin registers it as it does on those.
            plugins.VALID_HOOKS.add("agent_loop_stopped")
        loader_warnings.lines.clear()
        plugins.discover_plugins(force=True)
        loaded = plugins.get_plugin_manager()._plugins.get("toolproxy")
        return {
            "valid_hooks_has_stop": "agent_loop_stopped" in plugins.VALID_HOOKS,
            "enabled": bool(loaded and loaded.enabled),
            "error": loaded.error if loaded else "not found",
            "hooks": list(loaded.hooks_registered) if loaded else [],
            "warnings": loader_warnings.lines,
        }

    async def op_mcp(self, message: Dict[str, Any]) -> Dict[str, Any]:
        from tools.mcp_tool import discover_mcp_tools

        tools = await self.loop.run_in_executor(None, discover_mcp_tools)
        return {"tools": tools}

    async def op_call(self, message: Dict[str, Any]) -> Dict[str, Any]:
        def run() -> None:
            try:
                result: Any = self._call(message)
            except Exception as error:
                result = {"raised": repr(error)}
            self.loop.call_soon_threadsafe(
                self.send, {"event": "result", "id": message["id"], "result": result}
            )

        # hermes runs tool handlers on agent worker threads, never on the gateway loop.
        threading.Thread(target=run, name=f"call-{message['id']}", daemon=True).start()
        return {}

    def _call(self, message: Dict[str, Any]) -> Any:
        from tools import mcp_tool
        from tools.registry import registry

        context: Optional[Dict[str, Any]] = message.get("context")
        if context is None:
            return registry.dispatch(
                mcp_tool.mcp_prefixed_tool_name(SERVER, message["tool"]),
                message["args"],
                task_id=f"task-{message['id']}",
            )
        server = mcp_tool._servers[SERVER]
        meta = {"io.nous.hermes/context": {"version": "1", **context}}

        async def call() -> Dict[str, Any]:
            async with server._rpc_lock:  # as hermes' handler: one call at a time per server
                result = await server.session.call_tool(
                    message["tool"], arguments=message["args"], meta=meta
                )
            text = "".join(getattr(block, "text", "") or "" for block in result.content)
            return {"is_error": bool(result.isError), "text": text}

        return mcp_tool._run_on_mcp_loop(call, timeout=60)

    async def op_stop(self, message: Dict[str, Any]) -> Dict[str, Any]:
        import hermes_cli.plugins as plugins

        os.environ.update(message.get("env", {}))
        invoked_at_ms = time.time_ns() / 1e6
        invoked_mono_ms = time.monotonic_ns() / 1e6
        started = time.perf_counter_ns()
        plugins.invoke_hook("agent_loop_stopped", **message["kwargs"])
        returned = time.perf_counter_ns()
        # The loop's 1 ms ticks over the next watch_ms: a loop held up by the hook, or by what it
        # started (threads taking the GIL), ticks late.
        watch_s = message.get("watch_ms", 0) / 1000
        ticks, max_gap, last = 0, 0.0, time.perf_counter()
        end = last + watch_s
        while last < end:
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            ticks, max_gap, last = ticks + 1, max(max_gap, now - last), now
        return {
            "invoked_at_ms": invoked_at_ms,
            "invoked_mono_ms": invoked_mono_ms,
            "hook_us": (returned - started) / 1000,
            "ticks": ticks,
            "max_gap_ms": max_gap * 1000,
        }

    async def op_flush(self, message: Dict[str, Any]) -> Dict[str, Any]:
        plugin = sys.modules["hermes_plugins.toolproxy"]
        flushed = await self.loop.run_in_executor(None, plugin.flush, message.get("timeout", 5))
        return {"flushed": flushed}

    async def op_logs(self, message: Dict[str, Any]) -> Dict[str, Any]:
        return {"logs": list(plugin_lines.lines)}


async def main() -> None:
    _watch_logs()
    loop = asyncio.get_running_loop()
    driver = Driver(loop)
    done = loop.create_future()
    running = set()  # the loop keeps only weak references to tasks

    def start(message: Dict[str, Any]) -> None:
        task = loop.create_task(driver.handle(message))
        running.add(task)
        task.add_done_callback(running.discard)

    def read() -> None:
        for line in sys.stdin:
            if line.strip():
                loop.call_soon_threadsafe(start, json.loads(line))
        loop.call_soon_threadsafe(done.set_result, None)

    threading.Thread(target=read, name="commands", daemon=True).start()
    driver.send({"event": "ready"})
    await done


if __name__ == "__main__":
    asyncio.run(main())
    # Daemon threads (hermes' MCP loop, the plugin's senders) must not hold the exit up.
    os._exit(0)
