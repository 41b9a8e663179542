# Seed 002: the TCP server with a recv loop, on 127.0.0.1:9999, answering 我是一个服务器.
# Rust lesson: tcp-echo (cargo run -p tcp-echo -- server --listen 9999 --reply 我是一个服务器).
# See README.md in this folder.
import socket
import sys

# TCP
# 创建一个服务器socket套接字
server_socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
# 服务器的IP地址和端口号
# interop: host and port from the command line (the seed's by default); port 0 prints the
# port the OS chose, so that a test can learn it.
host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
port = int(sys.argv[2]) if len(sys.argv) > 2 else 9999
address = (host, port)
# 服务器绑定地址
server_socket.bind(address)
# 设置服务器的最大连接数
server_socket.listen(1)
if port == 0:
    print("listening on %s:%d" % server_socket.getsockname()[:2], flush=True)
# 创建一个等待连接的客户端socket套接字,accept()函数会返回两个值,可以自行打印
client_socket, address = server_socket.accept()
# 服务器需要不停的接受客户端的发来的数据
while True:
    """
    以防客户端连接失败,需要检测异常
    无论是接受数据还是发送数据,我们需要将数据统一编码和解码
    """
    try:
        # seed bug, kept: no check for the empty recv that means "the client closed" (seed 001,
        # note 9): after the client leaves, this prints empty data until a send() fails.
        data = client_socket.recv(2048).decode("UTF-8")
        # 数据处理
        print("服务器接受的数据:", data)  # 服务器接受的数据:我是一个客户端
        client_socket.send("我是一个服务器".encode("UTF-8"))
    except:
        break
