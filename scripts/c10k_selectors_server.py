#!/usr/bin/env python3
"""The echo server a Python programmer would write for ten thousand clients with the standard
library's `selectors` (epoll on Linux, kqueue on macOS): one thread, non-blocking sockets
(`setblocking(False)`, seed 003), one readiness loop, and — what makes it competent — a buffer of
bytes owed per connection, with interest in EVENT_WRITE only while something is owed. No print
per message. What scripts/bench-c10k.sh compares tcp-nonblocking with.

Usage: python3 scripts/c10k_selectors_server.py [PORT]
Prints "listening on 127.0.0.1:PORT" first (port 0: the OS chooses). Stops on SIGTERM or Ctrl-C.
"""
import selectors
import signal
import socket
import sys

MAX_OWED = 256 * 1024  # past this, stop reading the client until it reads


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 9999
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(1024)
    listener.setblocking(False)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ, None)
    owed = {}  # socket -> bytearray of bytes not yet sent
    print(f"listening on 127.0.0.1:{listener.getsockname()[1]}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

    def close(conn):
        selector.unregister(conn)
        owed.pop(conn, None)
        conn.close()

    def interest(conn):
        events = 0
        if len(owed[conn]) < MAX_OWED:
            events |= selectors.EVENT_READ
        if owed[conn]:
            events |= selectors.EVENT_WRITE
        selector.modify(conn, events or selectors.EVENT_READ, conn)

    while True:
        for key, events in selector.select():
            if key.data is None:
                # Accept until BlockingIOError: one event may stand for many clients.
                while True:
                    try:
                        conn, _ = listener.accept()
                    except (BlockingIOError, InterruptedError):
                        break
                    except OSError:  # such as too many open files
                        break
                    conn.setblocking(False)
                    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    owed[conn] = bytearray()
                    selector.register(conn, selectors.EVENT_READ, conn)
                continue
            conn = key.data
            try:
                if events & selectors.EVENT_READ:
                    data = conn.recv(65536)
                    if not data:
                        close(conn)
                        continue
                    owed[conn] += data
                if owed[conn]:
                    sent = conn.send(owed[conn])
                    del owed[conn][:sent]
            except (BlockingIOError, InterruptedError):
                pass
            except OSError:
                close(conn)
                continue
            interest(conn)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
