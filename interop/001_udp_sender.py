# Seed 001 §4.1: send one line over UDP, print the answer decoded as GBK.
# Rust lesson: udp-bind (cargo run -p udp-bind -- server --encoding gbk --reply 收到). See README.md.
from socket import *
import sys

# 1. 创建udp套接字
udp_socket = socket(AF_INET, SOCK_DGRAM)

# 2. 准备接收方的地址
# '192.168.1.103'表示目的ip地址
# 8080表示目的端口
# interop: host and port from the command line (the seed's by default).
dest_ip = sys.argv[1] if len(sys.argv) > 1 else '192.168.1.103'
dest_port = int(sys.argv[2]) if len(sys.argv) > 2 else 8080
dest_addr = (dest_ip, dest_port)  # 注意 是元组,ip是字符串,端口是数字

# 3. 从键盘获取数据
send_data = input("请输入要发送的数据:")

# 4. 发送数据到指定的电脑上的指定程序中
udp_socket.sendto(send_data.encode('utf-8'), dest_addr)

# 5. 等待接收对方发送的数据
recv_data = udp_socket.recvfrom(1024)  # 1024表示本次接收的最大字节数

# 6. 显示对方发送的数据
# 接收到的数据recv_data是一个元组
# 第1个元素是对方发送的数据
# 第2个元素是对方的ip和端口
# seed bug, kept: it sends UTF-8 but decodes the answer as GBK (the tutorial's peer was a
# Windows tool speaking GBK), and strictly: an answer that is not GBK raises and ends the program.
print(recv_data[0].decode('gbk'))
print(recv_data[1])
# 7. 关闭套接字
udp_socket.close()
