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
import nats.js.api
import nats.js.errors


class Incomplete(Exception):
    """The read stopped short of the stream's count; the attempt is made again. `partial` is
    what it read, reported if no attempt reads more (so a loss shows as counts, not a trace)."""

    def __init__(self, message, partial):
        super().__init__(message)
        self.partial = partial


async def retrying(what, attempt, deadline=120):
    """Runs `attempt` until it succeeds or `deadline` seconds pass. Right after a node is killed
    the cluster may still be electing a leader, and on a loaded machine a JetStream API request
    can take longer than its timeout; both pass, so they are retried, each retry on stderr."""
    loop = asyncio.get_running_loop()
    end = loop.time() + deadline
    tries = 0
    while True:
        tries += 1
        try:
            return await attempt()
        except (nats.errors.Error, nats.js.errors.Error, Incomplete, OSError) as error:
            if loop.time() >= end:
                raise
            print(f"nats_stream.py {what}: attempt {tries} failed ({error!r}); retrying", file=sys.stderr)
            await asyncio.sleep(1)


async def connect(servers):
    return await nats.connect(servers=servers, connect_timeout=5, max_reconnect_attempts=5)


async def read_all(servers, stream):
    """Every message of `stream`, by Nats-Msg-Id, through a fresh ephemeral pull consumer."""
    nc = await connect(servers)
    try:
        js = nc.jetstream(timeout=20)
        info = await js.stream_info(stream)
        total = info.state.messages
        subject = info.config.subjects[0] if len(info.config.subjects) == 1 else ">"
        config = nats.js.api.ConsumerConfig(num_replicas=1, mem_storage=True, inactive_threshold=30)
        sub = await js.pull_subscribe(subject, stream=stream, config=config)
        counts = {}
        without_id = 0
        seen = 0
        while seen < total:
            try:
                msgs = await sub.fetch(1000, timeout=5)
            except nats.errors.TimeoutError:
                raise Incomplete(f"read {seen} of {total} messages, then nothing for 5 s",
                                 (total, seen, counts, without_id))
            for m in msgs:
                seen += 1
                msg_id = (m.headers or {}).get("Nats-Msg-Id")
                if msg_id is None:
                    without_id += 1
                else:
                    counts[msg_id] = counts.get(msg_id, 0) + 1
                await m.ack()
        return total, seen, counts, without_id
    finally:
        await nc.close()


async def count(servers, stream, ids_file):
    try:
        total, seen, counts, without_id = await retrying("count", lambda: read_all(servers, stream))
    except Incomplete as short:
        total, seen, counts, without_id = short.partial
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


async def stream_info(servers, stream):
    nc = await connect(servers)
    try:
        return await nc.jetstream(timeout=20).stream_info(stream)
    finally:
        await nc.close()


async def leader(servers, stream):
    info = await retrying("leader", lambda: stream_info(servers, stream))
    print(info.cluster.leader if info.cluster else "")


async def messages(servers, stream):
    info = await retrying("messages", lambda: stream_info(servers, stream))
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
