#!/usr/bin/env python3
"""The echo server a Python programmer would write for ten thousand clients with `asyncio`: a
coroutine per connection, `await reader.read()`, `writer.write()` then `await writer.drain()`
(which waits while the client does not read: the backpressure). No print per message. What
scripts/bench-c10k.sh compares tcp-nonblocking with.

Usage: python3 scripts/c10k_asyncio_server.py [PORT]
Prints "listening on 127.0.0.1:PORT" first (port 0: the OS chooses). Stops on SIGTERM or Ctrl-C.
"""
import asyncio
import signal
import socket
import sys


async def echo(reader, writer):
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        while True:
            data = await reader.read(65536)
            if not data:  # the client closed its end
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 9999
    server = await asyncio.start_server(echo, "127.0.0.1", port, backlog=1024)
    print(f"listening on 127.0.0.1:{server.sockets[0].getsockname()[1]}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with server:
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(main())
