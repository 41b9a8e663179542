# Seed 002: the client with a thread: sends 我是一个客户端, then prints whatever arrives.
# Rust lesson: tcp-threaded (cargo run -p tcp-threaded -- server). See README.md.
import socket
import sys
from threading import Thread

# 客户端需要创建一个套接字
client_socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
# 客户端需要连接服务器,必须先知道服务器的IP地址和端口号
# interop: host and port from the command line (the seed's by default).
host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
port = int(sys.argv[2]) if len(sys.argv) > 2 else 9999
address = (host, port)


def net_connect():
    try:
        # 连接服务器
        client_socket.connect(address)
    except:
        # seed bug, kept: a failed connect ends the program without a word.
        return
    th = Thread(target=recv_data)
    # th.setDaemon(True)
    th.start()


def recv_data():
    # 这个数据是将要发送的数据
    data = "我是一个客户端"
    client_socket.send(data.encode("UTF-8"))
    while True:
        """
        以防服务器中断退出,需要检测异常
        无论是接受数据还是发送数据,我们需要将数据统一编码和解码
        """
        try:
            # seed bug, kept: no check for the empty recv: once the server closes, this loop
            # spins, printing empty data, until you press Ctrl-C.
            data = client_socket.recv(2048).decode("UTF-8")
            # 数据处理,这里打印出来并且将数据发回客户端
            print("客户端接受的数据:", data)
        except:
            break


net_connect()
