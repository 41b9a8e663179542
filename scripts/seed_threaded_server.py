#!/usr/bin/env python3
"""Seed 000's threaded echo server, as the tutorial writes it — one Thread per connection,
never joined, never bounded — with the two fixes a benchmark needs: a recv loop that stops at
the empty recv (note 9 of seed 001), and sendall instead of send. The baseline that
scripts/bench-threaded.sh compares the Rust server with.

Usage: python3 scripts/seed_threaded_server.py [PORT] [--print]
Prints "listening on 127.0.0.1:PORT" first (port 0: the OS chooses). With --print, it prints
every message like the seed's 服务端收到>>>; without, it prints nothing more.
"""
import socket
import sys
from threading import Thread

PRINT = "--print" in sys.argv[1:]


def fn(conn):
    with conn:
        while True:
            try:
                data = conn.recv(1024)
            except OSError:
                return
            if not data:  # the client closed its end
                return
            if PRINT:
                print("服务端收到>>>", data.decode("utf-8", "replace").rstrip("\n"), flush=True)
            try:
                conn.sendall(data)
            except OSError:
                return


if __name__ == "__main__":
    ports = [arg for arg in sys.argv[1:] if not arg.startswith("--")]
    port = int(ports[0]) if ports else 0
    sk = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sk.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sk.bind(("127.0.0.1", port))
    sk.listen(128)
    print("listening on %s:%d" % sk.getsockname(), flush=True)
    try:
        while True:
            conn, addr = sk.accept()
            Thread(target=fn, args=(conn,), daemon=True).start()
    except KeyboardInterrupt:
        pass
    finally:
        sk.close()
