"""A hermes-livekit v0.3 tool client, written as v0.3 clients are: the LiveKit Python SDK, a token
it mints itself (join, subscribe, publish data; no attributes), the flat v0.3 frames published on
`hermes-control` with reliable=True to the room, and replies read from packets without a topic.

It registers three tools once the agent is in the room: `desktop_notify` answers with a result,
`camera_permission` with an error string, `slow_scan` never answers (it waits to be cancelled).
Every packet it receives and every frame it sends is printed on stdout as one JSON line, for the
test to assert on. It leaves the room and exits when stdin ends.

Usage: python v03_client.py --room ROOM --identity ID [--agent toolproxy-agent]
Environment: LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from typing import Any

from livekit import api, rtc

CONTROL_TOPIC = "hermes-control"

TOOLS: list[dict[str, Any]] = [
    {
        "type": "client:tool-register",
        "name": "desktop_notify",
        "description": "Show a desktop notification on the user's machine.",
        "input_schema": {
            "type": "object",
            "properties": {"title": {"type": "string", "description": "Notification title."}},
            "required": ["title"],
        },
    },
    {
        "type": "client:tool-register",
        "name": "camera_permission",
        "description": "Ask for the camera; this client always refuses.",
        "input_schema": {"type": "object", "properties": {}},
    },
    {
        "type": "client:tool-register",
        "name": "slow_scan",
        "description": "Scan the room slowly; runs until it is cancelled.",
        "input_schema": {
            "type": "object",
            "properties": {"area": {"type": "string"}},
            "required": ["area"],
        },
    },
]


def emit(event: str, **fields: Any) -> None:
    print(json.dumps({"event": event, **fields}), flush=True)


def mint_token(room: str, identity: str) -> str:
    return (
        api.AccessToken(
            api_key=os.environ["LIVEKIT_API_KEY"], api_secret=os.environ["LIVEKIT_API_SECRET"]
        )
        .with_identity(identity)
        .with_name(identity)
        .with_grants(
            api.VideoGrants(
                room_join=True,
                room=room,
                can_publish=False,
                can_subscribe=True,
                can_publish_data=True,
            )
        )
        .to_jwt()
    )


class V03Client:
    def __init__(self, room_name: str, identity: str, agent: str) -> None:
        self.room_name = room_name
        self.identity = identity
        self.agent = agent
        self.room: rtc.Room | None = None
        self.registered = False
        # call_id -> name: calls of slow_scan still running here.
        self.running: dict[str, str] = {}
        self.tasks: set[asyncio.Task[None]] = set()

    def spawn(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def publish(self, frame: dict[str, Any], topic: str = CONTROL_TOPIC) -> None:
        assert self.room is not None
        await self.room.local_participant.publish_data(
            json.dumps(frame).encode(), reliable=True, topic=topic
        )
        emit("sent", frame=frame, topic=topic)

    async def register(self) -> None:
        if self.registered:
            return
        self.registered = True
        for frame in TOOLS:
            await self.publish(frame)

    async def connect(self) -> None:
        self.room = rtc.Room()
        self.room.on("data_received", self.on_data)
        self.room.on("participant_connected", self.on_joined)
        await self.room.connect(os.environ["LIVEKIT_URL"], mint_token(self.room_name, self.identity))
        peers = [p.identity for p in self.room.remote_participants.values()]
        emit("joined", identity=self.identity, peers=peers)
        if self.agent in peers:
            await self.register()

    def on_joined(self, participant: rtc.RemoteParticipant) -> None:
        if participant.identity == self.agent:
            self.spawn(self.register())

    def on_data(self, packet: rtc.DataPacket) -> None:
        sender = packet.participant.identity if packet.participant is not None else None
        topic = packet.topic or ""
        try:
            frame = json.loads(packet.data.decode())
        except (UnicodeDecodeError, json.JSONDecodeError):
            emit("received-raw", size=len(packet.data), topic=topic, sender=sender)
            return
        emit("received", frame=frame, topic=topic, sender=sender)
        # v0.3: tool replies come without a topic; other types and topics are not ours to act on.
        if topic != "" or not isinstance(frame, dict):
            return
        kind = frame.get("type")
        call_id = frame.get("call_id")
        if kind == "agent:tool-call" and isinstance(call_id, str):
            self.spawn(self.answer(call_id, frame.get("name"), frame.get("arguments")))
        elif kind == "agent:tool-call-cancelled" and isinstance(call_id, str):
            self.running.pop(call_id, None)

    async def answer(self, call_id: str, name: Any, arguments: Any) -> None:
        args = arguments if isinstance(arguments, dict) else {}
        if name == "desktop_notify":
            result = {"shown": True, "title": args.get("title")}
            await self.publish({"type": "client:tool-result", "call_id": call_id, "result": result})
        elif name == "camera_permission":
            await self.publish(
                {"type": "client:tool-result", "call_id": call_id, "error": "permission denied"}
            )
        elif name == "slow_scan":
            self.running[call_id] = name  # answered never: the agent's stop cancels it
        else:
            await self.publish(
                {"type": "client:tool-result", "call_id": call_id, "error": f"no tool {name}"}
            )

    async def leave(self) -> None:
        if self.room is not None:
            await self.room.disconnect()
        emit("left", running=sorted(self.running))


async def stdin_closed() -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while await reader.read(4096):
        pass


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--room", required=True)
    parser.add_argument("--identity", required=True)
    parser.add_argument("--agent", default="toolproxy-agent")
    options = parser.parse_args()
    client = V03Client(options.room, options.identity, options.agent)
    try:
        await client.connect()
        await stdin_closed()
    finally:
        await client.leave()


if __name__ == "__main__":
    asyncio.run(main())
