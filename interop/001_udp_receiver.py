# Seed 001 §4.3: a bound UDP socket; receives one datagram and prints it decoded as GBK.
# Rust lesson: udp-bind (cargo run -p udp-bind -- client --server 7788 --encoding gbk). See README.md.
from socket import *
import sys

# 1. 创建套接字
udp_socket = socket(AF_INET, SOCK_DGRAM)

# 2. 绑定本地的相关信息,如果一个网络程序不绑定,则系统会随机分配
# interop: host and port from the command line (the seed's by default); port 0 prints the
# port the OS chose, so that a test can learn it.
local_ip = sys.argv[1] if len(sys.argv) > 1 else ''
local_port = int(sys.argv[2]) if len(sys.argv) > 2 else 7788
local_addr = (local_ip, local_port)  #  ip地址和端口号,ip一般不用写,表示本机的任何一个ip
udp_socket.bind(local_addr)
if local_port == 0:
    print("bound to %s:%d" % udp_socket.getsockname()[:2], flush=True)

# 3. 等待接收对方发送的数据
recv_data = udp_socket.recvfrom(1024) #  1024表示本次接收的最大字节数

# 4. 显示接收到的数据
# seed bug, kept: a strict decode: a datagram that is not GBK raises and ends the program.
print(recv_data[0].decode('gbk'))

# 5. 关闭套接字
udp_socket.close()
