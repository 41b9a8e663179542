# Seed 000: the UDP client. Sends BBB from an unbound socket, prints the one reply.
# Rust lesson: udp-bind (cargo run -p udp-bind -- client --message BBB). See README.md.
import socket
import sys

print("-----client------")

# interop: host and port from the command line (the seed's by default).
host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
port = int(sys.argv[2]) if len(sys.argv) > 2 else 8899

server_addr = (host, port)
sk = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

msg = "BBB"
sk.sendto(msg.encode("utf-8"), server_addr)
print("客户端发送>>>", msg)
# seed bug, kept: no timeout: if the datagram or the reply is lost, this waits forever.
recv_msg, recv_addr = sk.recvfrom(1024)

# (sic: the seed prints 发送, "sent", for what it received)
print("客户端发送>>>", recv_msg.decode("utf-8"), recv_addr)

sk.close()
