# -*- coding:utf-8 -*-
# Seed 004 (Kurose & Ross): the TCP uppercase server, ported to Python 3.
# Rust lesson: tcp-echo (cargo run -p tcp-echo -- client --connect 12000). See README.md.
from socket import *
import sys
#定义端口号变量
# interop: host and port from the command line (the seed's by default); port 0 prints the
# port the OS chose, so that a test can learn it.
serverHost = sys.argv[1] if len(sys.argv) > 1 else ''
serverPort = int(sys.argv[2]) if len(sys.argv) > 2 else 12000
#实例化服务端套接字,SOCK_STREAM指定使用TCP协议
serverSocket = socket(AF_INET, SOCK_STREAM)
#为套接字绑定端口号
serverSocket.bind((serverHost, serverPort))
#监听来自客户端的请求,其中参数定义了最大连接数
serverSocket.listen(1)
if serverPort == 0:
    print("listening on %s:%d" % serverSocket.getsockname()[:2], flush=True)
print('The server is ready to receive')  # Python 3: print()
#循环监听
while 1:
    #服务器监听到来自客户端的请求,使用accept()为其创建一个新的专用的连接。
    #此处不同与UDP,TCP在经过公用的三次握手之后,为其建立一个新连接供其传输数据
    connectionSocket, addr = serverSocket.accept()
    #接收客户端发送来的数据
    # seed bug, kept: ONE recv(1024), taken to be the whole sentence.
    sentence = connectionSocket.recv(1024)
    #操作接收到的数据
    # As in Python 2, where str was bytes: upper() changes only the ASCII letters.
    capitalizedSentence = sentence.upper()
    #发送数据到客户端
    # seed bug, kept: send() instead of sendall().
    connectionSocket.send(capitalizedSentence)
    #断开连接
    connectionSocket.close()
