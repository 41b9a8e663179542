# Seed 000: the TCP echo server. One recv(1024) per client, clients served one after another.
# Rust lesson: tcp-echo (cargo run -p tcp-echo -- server). See README.md in this folder.
import socket
import sys


def fn(conn):
    # seed bug, kept: ONE recv(1024) per client. A longer message arrives cut, and a second
    # message on the same connection is never read (the tcp-echo lesson loops until recv is empty).
    # seed bug, kept: decode("utf-8") is strict: bytes that are not UTF-8 raise and stop the server.
    msg = conn.recv(1024).decode("utf-8")
    print("服务端收到>>>", msg)
    # seed bug, kept: send() may send only part of the bytes; sendall() is what is meant.
    conn.send(msg.encode("utf-8"))
    print("服务端发送消息到客户端>>>", msg)


if __name__ == "__main__":
    # interop: host and port from the command line (the seed's by default); port 0 prints the
    # port the OS chose, so that a test can learn it.
    host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 8899
    sk = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sk.bind((host, port))
    sk.listen()
    if port == 0:
        print("listening on %s:%d" % sk.getsockname()[:2], flush=True)
    while True:
        conn, addr = sk.accept()
        print("已连接服务器-->", addr)
        # seed bug, kept: conn is never closed; it stays open until the next accept() replaces it.
        fn(conn)
    sk.close()
