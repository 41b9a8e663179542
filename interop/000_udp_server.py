# Seed 000: the UDP server. Waits for one datagram, answers AAA to whoever sent it, exits.
# Rust lesson: udp-bind (cargo run -p udp-bind -- server --once --reply AAA). See README.md.
import socket
import sys

print("-----server------")

# interop: host and port from the command line (the seed's by default); port 0 prints the
# port the OS chose, so that a test can learn it.
host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
port = int(sys.argv[2]) if len(sys.argv) > 2 else 8899

addr = (host, port)
sk = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sk.bind(addr)
if port == 0:
    print("bound to %s:%d" % sk.getsockname()[:2], flush=True)

# seed bug, kept: recvfrom(1024) cuts a longer datagram (silently on Linux and macOS).
recv_msg, recv_addr = sk.recvfrom(1024)
print("服务端收到>>>", recv_msg.decode("utf-8"), recv_addr)
msg = "AAA"
sk.sendto(msg.encode("utf-8"), recv_addr)
print("服务端发送>>>", msg)

sk.close()
