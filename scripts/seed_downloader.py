#!/usr/bin/env python3
"""Seed 001's 文件下载器 (file downloader) in Python, twice.

`seed-server` and `seed-client` are the tutorial's program as it is usually written (seed 001
section 5.7 links it): the client sends a bare file name, the server sends the file's bytes, and
the client saves what ONE recv(1024) returned. Any file over 1 KiB arrives cut, and nothing says so.

`server` and `client` are the same program fixed, still in the seed's style (recv(1024),
sendall, one client at a time): they speak the Rust lesson's protocol (GET <name>\\n, then
OK <length>\\n and the bytes, or ERR <reason>\\n), loop until <length> bytes have arrived, and
rename a temporary file only then. They work with the Rust server and client too, and
scripts/bench-download.sh times this client against the Rust one.

Usage (everything listens on and connects to 127.0.0.1):
  python3 scripts/seed_downloader.py seed-server [--port 7890] [--root DIR]
  python3 scripts/seed_downloader.py seed-client NAME [--port 7890]
  python3 scripts/seed_downloader.py server [--port 7890] [--root DIR]
  python3 scripts/seed_downloader.py client NAME [--port 7890] [--output PATH]
"""
import argparse
import os
import socket
import sys
import time


# ANCHOR: seed_server
def seed_send_file_2_client(new_client_socket, client_addr, root):
    # 1. 接收客户端需要下载的文件名: one recv(1024), trusted to be the whole name
    file_name = new_client_socket.recv(1024).decode("utf-8")
    print("客户端(%s)需要下载文件是: %s" % (str(client_addr), file_name))
    if ".." in file_name or os.path.isabs(file_name):
        return  # (added here: the seed opens any name it is sent, /etc/passwd included)
    file_content = None
    # 2. 打开这个文件, 读取数据: the WHOLE file, into memory
    try:
        with open(os.path.join(root, file_name), "rb") as f:
            file_content = f.read()
    except Exception:
        print("没有要下载的文件(%s)" % file_name)
    # 3. 发送文件的数据给客户端: no length, so the client cannot know when it has it all
    if file_content:
        new_client_socket.send(file_content)
# ANCHOR_END: seed_server


# ANCHOR: seed_client
def seed_client(name, port):
    tcp_socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp_socket.connect(("127.0.0.1", port))
    tcp_socket.send(name.encode("utf-8"))
    # 6. 接收文件中的数据: ONE recv(1024). "1024--->1K": and the rest of the file?
    recv_data = tcp_socket.recv(1024)
    if recv_data:
        # 7. 保存接收到的数据到一个文件中
        with open("[新]" + os.path.basename(name), "wb") as f:
            f.write(recv_data)
        print("saved [新]%s: %d bytes" % (os.path.basename(name), len(recv_data)))
    tcp_socket.close()
# ANCHOR_END: seed_client


def seed_server(port, root):
    tcp_server_socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp_server_socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp_server_socket.bind(("127.0.0.1", port))
    tcp_server_socket.listen(128)
    print("listening on 127.0.0.1:%d" % tcp_server_socket.getsockname()[1], flush=True)
    while True:
        new_client_socket, client_addr = tcp_server_socket.accept()
        seed_send_file_2_client(new_client_socket, client_addr, root)
        new_client_socket.close()


def fixed_server(port, root):
    """The lesson's protocol, one client at a time, the file sent 1024 bytes per read."""
    root = os.path.realpath(root)
    tcp_server_socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp_server_socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp_server_socket.bind(("127.0.0.1", port))
    tcp_server_socket.listen(128)
    print("listening on 127.0.0.1:%d" % tcp_server_socket.getsockname()[1], flush=True)
    while True:
        new_client_socket, client_addr = tcp_server_socket.accept()
        new_client_socket.settimeout(5)
        try:
            request = b""
            while b"\n" not in request and len(request) <= 4096:
                chunk = new_client_socket.recv(1024)
                if not chunk:
                    break
                request += chunk
            line = request.split(b"\n", 1)[0].decode("utf-8").rstrip("\r")
            name = line[4:] if line.startswith("GET ") else ""
            path = os.path.realpath(os.path.join(root, name))
            if not name or not path.startswith(root + os.sep) or not os.path.isfile(path):
                new_client_socket.sendall(b"ERR no such file\n")
                continue
            with open(path, "rb") as f:
                length = os.fstat(f.fileno()).st_size
                new_client_socket.sendall(b"OK %d\n" % length)
                while True:
                    file_content = f.read(1024)
                    if not file_content:
                        break
                    new_client_socket.sendall(file_content)
            print("sent %s (%d bytes) to %s:%d" % (name, length, *client_addr), flush=True)
        except (OSError, UnicodeDecodeError) as error:
            print("connection with %s:%d failed: %s" % (*client_addr, error), flush=True)
        finally:
            new_client_socket.close()


# ANCHOR: fixed_client
def fixed_client(name, port, output):
    started = time.perf_counter()
    tcp_socket = socket.create_connection(("127.0.0.1", port), timeout=10)
    tcp_socket.sendall(("GET %s\n" % name).encode("utf-8"))
    # The header first: up to the first newline. The same recv may bring body bytes too.
    header = b""
    while b"\n" not in header:
        recv_data = tcp_socket.recv(1024)
        if not recv_data or len(header) > 1024:
            sys.exit("error: the server sent no header")
        header += recv_data
    line, _, body = header.partition(b"\n")
    if line.startswith(b"ERR "):
        sys.exit("error: the server refused %r: %s" % (name, line[4:].decode("utf-8", "replace")))
    length = int(line[3:])
    part = output + ".part"
    with open(part, "wb") as f:
        f.write(body)
        received = len(body)
        # The fix: recv(1024) in a loop until all <length> bytes are here.
        while received < length:
            recv_data = tcp_socket.recv(1024)
            if not recv_data:
                sys.exit("error: the server closed the connection after %d of %d bytes"
                         % (received, length))
            f.write(recv_data)
            received += len(recv_data)
    tcp_socket.close()
    os.replace(part, output)  # only a whole file gets the real name
    seconds = time.perf_counter() - started
    print("downloaded %s: %d bytes in %.2f s (%.1f MB/s) -> %s"
          % (name, length, seconds, length / max(seconds, 1e-9) / 1e6, output))
# ANCHOR_END: fixed_client


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=["seed-server", "seed-client", "server", "client"])
    parser.add_argument("name", nargs="?", help="the file to download (clients)")
    parser.add_argument("--port", type=int, default=7890)
    parser.add_argument("--root", default=".", help="the folder to serve (servers)")
    parser.add_argument("--output", help="where to save (client); default: NAME's last part")
    args = parser.parse_args()
    if args.mode.endswith("client") and not args.name:
        parser.error("NAME is required for a client")
    try:
        if args.mode == "seed-server":
            seed_server(args.port, args.root)
        elif args.mode == "server":
            fixed_server(args.port, args.root)
        elif args.mode == "seed-client":
            seed_client(args.name, args.port)
        else:
            fixed_client(args.name, args.port, args.output or os.path.basename(args.name))
    except KeyboardInterrupt:
        pass
    except OSError as error:
        sys.exit("error: %s" % error)


if __name__ == "__main__":
    main()
