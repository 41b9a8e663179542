# -*- coding:utf-8 -*-
# Seed 004 (Kurose & Ross): the UDP uppercase server, ported to Python 3.
# Rust lesson: udp-bind (cargo run -p udp-bind -- client --server 12000). See README.md.
from socket import *
import sys
#定义一个端口号
# interop: host and port from the command line (the seed's by default); port 0 prints the
# port the OS chose, so that a test can learn it.
serverHost = sys.argv[1] if len(sys.argv) > 1 else ''
serverPort = int(sys.argv[2]) if len(sys.argv) > 2 else 12000
#实例化一个服务器端的套接字,AF_INET指定使用IPv4,SOCK_DGRAM指定使用UDP
serverSocket = socket(AF_INET, SOCK_DGRAM)
#为服务器端套接字绑定一个端口
serverSocket.bind((serverHost, serverPort))
if serverPort == 0:
    print("bound to %s:%d" % serverSocket.getsockname()[:2], flush=True)
print("The server is ready to receive")  # Python 3: print()
#处于循环监听状态
while True:
    #当有数据到达本地的12000端口的套接字处时,使用recvfrom()接收
    message, clientAddress = serverSocket.recvfrom(2048)
    #对接收到的数据进行处理
    # As in Python 2, where str was bytes: upper() changes only the ASCII letters.
    modifiedMessage = message.upper()
    #使用sendto()发送数据到客户端
    serverSocket.sendto(modifiedMessage, clientAddress)
