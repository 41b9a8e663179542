# -*- coding:utf-8 -*-
# Seed 004 (Kurose & Ross): the UDP client of the uppercase server, ported to Python 3.
# Rust lesson: udp-bind (cargo run -p udp-bind -- server --bind 12000 --upper). See README.md.
from socket import *
import sys
#设置服务器主机名或者IP地址
#设置主机的接收进程,即端口号
# interop: host and port from the command line (the seed's by default).
serverName = sys.argv[1] if len(sys.argv) > 1 else '127.0.0.1'
serverPort = int(sys.argv[2]) if len(sys.argv) > 2 else 12000
#创建客户端套接字,AF_INET指示底层用IPv4, SOCK_DGRAM指定是UDP套接字不是TCP套接字
clientSocket = socket(AF_INET,SOCK_DGRAM)
#客户端提示用户输入信息
message = input("Input lowercase sentence:")  # Python 3: input() was raw_input()
#发送报文到目的地
#sendto()方法为报文附上目的地址,并且向进程的套接字clientSocket发送结果分组
clientSocket.sendto(message.encode(), (serverName, serverPort))  # Python 3: str -> UTF-8 bytes
#当有数据到达客户端的套接字时,使用recvfrom()方法接收,指定缓存长度为2048
# seed bug, kept: no timeout: a lost datagram or reply leaves this waiting forever.
modifiedMessage, serverAddress = clientSocket.recvfrom(2048)
#打印刚刚接收到的信息
print(modifiedMessage.decode(), serverAddress)  # Python 3: print() and bytes -> str
#关闭套接字
clientSocket.close()
