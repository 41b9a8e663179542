# Seed 002: the "concurrent" server, on 127.0.0.1:9999 with listen(5). It starts ONE thread,
# which accepts a client, answers its first recv once, and accepts the next: it is not concurrent
# at all. Rust lesson: tcp-threaded (server --seed-002 shows the same mistake). See README.md.
import socket
import sys
from threading import Thread

# TCP
# 创建一个服务器socket套接字
server_socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
# 服务器的IP地址和端口号
# interop: host and port from the command line (the seed's by default); port 0 prints the
# port the OS chose, so that a test can learn it.
host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
port = int(sys.argv[2]) if len(sys.argv) > 2 else 9999
address = (host, port)


def net_connect():
    try:
        # 服务器绑定地址
        server_socket.bind(address)
        # 设置服务器的最大连接数
        server_socket.listen(5)
    except:
        # seed bug, kept: a failed bind (port in use) ends the program without a word.
        return
    if port == 0:
        print("listening on %s:%d" % server_socket.getsockname()[:2], flush=True)
    # 创建线程
    # seed bug, kept: one thread for all clients; a silent client blocks everyone, and any
    # exception ends the thread and, with it, the server.
    th = Thread(target=recv_data)
    th.start()


def recv_data():
    # 服务器需要不停的接受客户端的发来的数据
    while True:
        """
        以防客户端连接失败,需要检测异常
        无论是接受数据还是发送数据,我们需要将数据统一编码和解码
        """
        # 创建一个等待连接的客户端socket套接字,accept()函数会返回两个值,可以自行打印
        client_socket, address = server_socket.accept()
        try:
            # seed bug, kept: ONE recv(2048) per client; the socket stays open until the next
            # accept() replaces it.
            data = client_socket.recv(2048).decode("UTF-8")
            # 数据处理
            print("服务器接受的数据:", data)
            client_socket.send("我是一个服务器".encode("UTF-8"))
        except:
            break


net_connect()
