# Seed 000: the TCP client. One line from stdin, one send, one recv(1024).
# Rust lesson: tcp-echo (cargo run -p tcp-echo -- client). See README.md in this folder.
import socket
import sys

# interop: host and port from the command line (the seed's by default).
host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
port = int(sys.argv[2]) if len(sys.argv) > 2 else 8899

sk = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
sk.connect((host, port))
msg = input()
# The message goes without its newline: input() removed it. The Rust servers answer such a
# message after a short silence.
sk.send(msg.encode("utf-8"))
print("客户端发送的内容>>>", msg)
# seed bug, kept: ONE recv(1024): a longer reply arrives cut.
msg = sk.recv(1024).decode("utf-8")
print("客户端收到>>>", msg)
sk.close()
