#!/usr/bin/env python3
"""The Python side of the c10k benchmark (scripts/bench-c10k.sh): an echo server written
the way a competent asyncio programmer would, to compare the Rust servers with. One task per
connection (asyncio.start_server), lines read with a bounded readline (64 KiB, like the Rust
servers), each echo written and drained (so a client that stops reading holds up only its own
task). The default event loop; TCP_NODELAY is set by asyncio itself.

    python3 scripts/c10k_asyncio_server.py [PORT]     # prints `listening on 127.0.0.1:PORT`

Loopback only. SIGTERM or Ctrl-C stops it.
"""

import asyncio
import signal
import sys

LIMIT = 64 * 1024


async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            try:
                line = await reader.readline()
            except ValueError:
                # Longer than LIMIT without a newline: hand on what is buffered, in pieces.
                line = await reader.read(LIMIT)
            if not line:
                break
            writer.write(line)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


async def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    server = await asyncio.start_server(echo, "127.0.0.1", port, limit=LIMIT, backlog=1024)
    host, port = server.sockets[0].getsockname()[:2]
    print(f"listening on {host}:{port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with server:
        await stop.wait()
    print("stopped", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
