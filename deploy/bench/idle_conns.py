#!/usr/bin/env python3
"""Scenario "idle": what N idle keep-alive client connections cost a proxy.

Opens N connections to HOST:PORT (at most --parallel connecting at once),
sends one `GET / HTTP/1.1` on each and reads its response, keeps them all
open and idle, and reads the proxy's VmRSS from /proc/PID/status before,
while they are open, and after they are closed. Prints one JSON object.

Everything is bounded: --timeout seconds for the whole opening phase, each
connection's request/response by --request-timeout.

    idle_conns.py --port 21300 --pid 12345 [--count 10000]
"""

import argparse
import asyncio
import json
import resource
import sys
import time


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def cpu_ticks(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime (fields 14, 15)


async def open_one(host, port, request, request_timeout, semaphore, connections, failures):
    async with semaphore:
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), request_timeout)
        except (OSError, asyncio.TimeoutError) as error:
            failures.append(f"connect: {error!r}")
            return
        try:
            writer.write(request)
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), request_timeout)
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            if length:
                await asyncio.wait_for(reader.readexactly(length), request_timeout)
            if not head.startswith(b"HTTP/1.1 200"):
                failures.append("status: " + head.split(b"\r\n", 1)[0].decode(errors="replace"))
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError) as error:
            failures.append(f"request: {error!r}")
            writer.close()
            return
        connections.append((reader, writer))


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--pid", type=int, required=True, help="the proxy process whose VmRSS to read")
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--parallel", type=int, default=200)
    parser.add_argument("--settle", type=float, default=2.0, help="seconds to wait before reading RSS")
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--request-timeout", type=float, default=10.0)
    args = parser.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = args.count + 256
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))

    await asyncio.sleep(args.settle)
    before = rss_kib(args.pid)
    cpu_before = cpu_ticks(args.pid)
    request = f"GET / HTTP/1.1\r\nHost: {args.host}:{args.port}\r\nUser-Agent: switchyard-bench-idle\r\n\r\n".encode()
    semaphore = asyncio.Semaphore(args.parallel)
    connections, failures = [], []
    started = time.monotonic()
    tasks = [
        asyncio.create_task(open_one(args.host, args.port, request, args.request_timeout, semaphore, connections, failures))
        for _ in range(args.count)
    ]
    done, pending = await asyncio.wait(tasks, timeout=args.timeout)
    for task in pending:
        task.cancel()
    if pending:
        failures.append(f"{len(pending)} connections not open after {args.timeout}s")
    open_seconds = time.monotonic() - started

    await asyncio.sleep(args.settle)
    still_open = sum(1 for reader, _ in connections if not reader.at_eof())
    during = rss_kib(args.pid)
    cpu_open = cpu_ticks(args.pid) - cpu_before

    for _, writer in connections:
        writer.close()
    await asyncio.sleep(args.settle)
    after = rss_kib(args.pid)

    opened = len(connections)
    result = {
        "count": args.count,
        "opened": opened,
        "still_open": still_open,
        "failed": len(failures),
        "first_failures": failures[:3],
        "open_seconds": round(open_seconds, 2),
        "rss_before_kib": before,
        "rss_open_kib": during,
        "rss_after_close_kib": after,
        "bytes_per_connection": round((during - before) * 1024 / opened) if opened else None,
        "cpu_ticks_opening": cpu_open,
    }
    print(json.dumps(result))
    return 0 if opened == args.count and still_open == opened else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
