# -*- coding:utf-8 -*-
# Seed 004 (Kurose & Ross): the TCP client of the uppercase server, ported to Python 3.
# Rust lesson: tcp-echo (cargo run -p tcp-echo -- server --listen 12000 --upper). See README.md.
from socket import *
import sys
#服务器端的IP地址或名称和端口号
# interop: host and port from the command line (the seed's by default).
serverName = sys.argv[1] if len(sys.argv) > 1 else '127.0.0.1'
serverPort = int(sys.argv[2]) if len(sys.argv) > 2 else 12000
#实例化套接字,SOCK_STREAM指定使用的是TCP协议
clientSocket = socket(AF_INET, SOCK_STREAM)
#客户端和服务器端建立连接
clientSocket.connect((serverName, serverPort))
#提示用户输入信息
sentence = input("Input lowercase sentence:")  # Python 3: input() was raw_input()
#客户端发送数据到服务器,此处不同于UDP
#此处没有为数据指定地址,是因为已经和服务器建立和连接,可以直接通信了
# seed bug, kept: send() instead of sendall(), and no newline: the Rust server answers after
# a short silence.
clientSocket.send(sentence.encode())  # Python 3: str -> UTF-8 bytes
#接收返回的数据
# seed bug, kept: ONE recv(1024): a longer reply arrives cut.
modifiedSentence = clientSocket.recv(1024)
#打印显示服务器端发回来的数据
print('From Server:', modifiedSentence.decode())  # Python 3: print() and bytes -> str
#关闭客户端套接字连接
clientSocket.close()
