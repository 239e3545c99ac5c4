#!/usr/bin/env python3
"""Reads a JetStream stream with nats-py (NATS's own Python client, not our code) for the tests.

  nats_stream.py count SERVERS STREAM IDS_FILE   every message, by Nats-Msg-Id: prints
                                                 {"messages", "unique_ids", "repeated_ids",
                                                  "without_id"} and writes the ids, one a line
  nats_stream.py leader SERVERS STREAM           prints the name of the stream's leader
  nats_stream.py messages SERVERS STREAM         prints how many messages the stream holds

SERVERS is a comma-separated list of nats:// URLs.
"""
import asyncio
import json
import sys

import nats


async def count(servers, stream, ids_file):
    nc = await nats.connect(servers=servers, connect_timeout=5, max_reconnect_attempts=5)
    js = nc.jetstream(timeout=10)
    info = await js.stream_info(stream)
    total = info.state.messages
    subject = info.config.subjects[0] if len(info.config.subjects) == 1 else ">"
    sub = await js.pull_subscribe(subject, stream=stream)
    counts = {}
    without_id = 0
    seen = 0
    while seen < total:
        try:
            msgs = await sub.fetch(1000, timeout=5)
        except nats.errors.TimeoutError:
            break
        for m in msgs:
            seen += 1
            msg_id = (m.headers or {}).get("Nats-Msg-Id")
            if msg_id is None:
                without_id += 1
            else:
                counts[msg_id] = counts.get(msg_id, 0) + 1
            await m.ack()
    await nc.close()
    with open(ids_file, "w") as f:
        for msg_id in counts:
            f.write(msg_id + "\n")
    print(json.dumps({
        "messages": seen,
        "stream_messages": total,
        "unique_ids": len(counts),
        "repeated_ids": sum(1 for c in counts.values() if c > 1),
        "without_id": without_id,
    }))


async def leader(servers, stream):
    nc = await nats.connect(servers=servers, connect_timeout=5, max_reconnect_attempts=5)
    js = nc.jetstream(timeout=10)
    info = await js.stream_info(stream)
    await nc.close()
    print(info.cluster.leader if info.cluster else "")


async def messages(servers, stream):
    nc = await nats.connect(servers=servers, connect_timeout=5, max_reconnect_attempts=5)
    info = await nc.jetstream(timeout=10).stream_info(stream)
    await nc.close()
    print(info.state.messages)


def main():
    command, servers = sys.argv[1], sys.argv[2].split(",")
    if command == "count":
        asyncio.run(count(servers, sys.argv[3], sys.argv[4]))
    elif command == "leader":
        asyncio.run(leader(servers, sys.argv[3]))
    elif command == "messages":
        asyncio.run(messages(servers, sys.argv[3]))
    else:
        sys.exit(f"unknown command {command}")


if __name__ == "__main__":
    main()
