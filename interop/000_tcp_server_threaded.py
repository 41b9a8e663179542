# Seed 000: the same echo server with one Thread per connection.
# Rust lesson: tcp-threaded (cargo run -p tcp-threaded -- server). See README.md in this folder.
import socket
import sys
from threading import Thread


def fn(conn):
    # seed bug, kept: ONE recv(1024) per client, as in 000_tcp_server.py.
    msg = conn.recv(1024).decode("utf-8")
    print("服务端收到>>>", msg)
    # seed bug, kept: send() instead of sendall().
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
        # seed bug, kept: one thread per client, never joined and never bounded.
        t = Thread(target=fn, args=(conn,))
        t.start()
    sk.close()
