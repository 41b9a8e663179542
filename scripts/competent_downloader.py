#!/usr/bin/env python3
"""A competent Python downloader for the file-downloader protocol, as a yardstick for
scripts/bench-download.sh: what a careful Python programmer gets without leaving the standard
library. The server sends each file with socket.sendfile (sendfile(2) on Linux: no copy through
Python); the client receives with recv_into into one reused 1 MiB buffer and writes it out.

Usage (everything listens on and connects to 127.0.0.1):
  python3 scripts/competent_downloader.py server [--port 0] [--root DIR]
  python3 scripts/competent_downloader.py client NAME --port PORT [--output PATH]
The server prints `listening on 127.0.0.1:PORT`; the client prints
`downloaded NAME: N bytes in T s (R MB/s) -> PATH`, like the Rust client.
"""
import argparse
import os
import socket
import sys
import time


def server(port, root):
    root = os.path.realpath(root)
    listener = socket.create_server(("127.0.0.1", port))
    print("listening on 127.0.0.1:%d" % listener.getsockname()[1], flush=True)
    while True:
        connection, _ = listener.accept()
        with connection:
            connection.settimeout(10)
            request = b""
            while b"\n" not in request and len(request) <= 4096:
                chunk = connection.recv(4096)
                if not chunk:
                    break
                request += chunk
            name = request.split(b"\n", 1)[0].decode("utf-8", "replace").rstrip("\r")[4:]
            path = os.path.realpath(os.path.join(root, name))
            if not path.startswith(root + os.sep) or not os.path.isfile(path):
                connection.sendall(b"ERR no such file\n")
                continue
            with open(path, "rb") as f:
                length = os.fstat(f.fileno()).st_size
                connection.sendall(b"OK %d\n" % length)
                try:
                    connection.sendfile(f)
                except OSError as error:
                    print("sending %s failed: %s" % (name, error), flush=True)


def client(name, port, output):
    started = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(b"GET %s\n" % name.encode("utf-8"))
        header = b""
        while b"\n" not in header and len(header) <= 1024:
            chunk = connection.recv(1024)
            if not chunk:
                sys.exit("error: the server closed the connection without answering")
            header += chunk
        line, _, early = header.partition(b"\n")
        if not line.startswith(b"OK "):
            sys.exit("error: %s" % line.decode("utf-8", "replace"))
        length = int(line[3:])
        buffer = bytearray(1024 * 1024)
        view = memoryview(buffer)
        part = output + ".part"
        with open(part, "wb") as f:
            f.write(early)
            received = len(early)
            while received < length:
                count = connection.recv_into(view, min(len(buffer), length - received))
                if count == 0:
                    sys.exit("error: the server closed the connection after %d of %d bytes"
                             % (received, length))
                f.write(view[:count])
                received += count
            os.fsync(f.fileno())
    os.replace(part, output)
    seconds = time.perf_counter() - started
    print("downloaded %s: %d bytes in %.2f s (%.1f MB/s) -> %s"
          % (name, length, seconds, length / max(seconds, 1e-9) / 1e6, output))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=["server", "client"])
    parser.add_argument("name", nargs="?")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--root", default=".")
    parser.add_argument("--output")
    args = parser.parse_args()
    try:
        if args.mode == "server":
            server(args.port, args.root)
        elif not args.name:
            parser.error("NAME is required for the client")
        else:
            client(args.name, args.port, args.output or os.path.basename(args.name))
    except KeyboardInterrupt:
        pass
    except OSError as error:
        sys.exit("error: %s" % error)


if __name__ == "__main__":
    main()
