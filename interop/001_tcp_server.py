# Seed 001 §5.6: the TCP server on ('', 8081): one client, one recv, a fixed reply, then exit.
# Rust lesson: tcp-echo (client --connect 8081). See README.md.
import socket
import sys


def main():
    # 创建套接字
    tcp_server_socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # 绑定本地信息bind
    # interop: host and port from the command line (the seed's by default); port 0 prints the
    # port the OS chose, so that a test can learn it.
    host = sys.argv[1] if len(sys.argv) > 1 else ''
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 8081
    localaddr = (host, port)
    tcp_server_socket.bind(localaddr)
    # 让默认的套接字由主动变成被动listen
    tcp_server_socket.listen(128)
    if port == 0:
        print("listening on %s:%d" % tcp_server_socket.getsockname()[:2], flush=True)
    print("——等待客人上门——")
    # 等待客户端的链接 accept
    new_client_socket, client_addr = tcp_server_socket.accept()

    print("——链接上了,客户端地址:{}——".format(client_addr))
    print("——等待客人提需求——")

    # 接受客户端发送过来的数据
    # seed bug, kept: ONE recv(1024), taken to be the whole request.
    recv_data = new_client_socket.recv(1024)
    print("客人的要求是:{}".format(recv_data.decode("utf-8")))

    # 回送一部分数据给客户端
    # seed bug, kept: send() instead of sendall().
    new_client_socket.send("再见,欢迎再次光临".encode("utf-8"))

    print("———客人离开了———")

    # 关闭套接字
    new_client_socket.close()
    tcp_server_socket.close()


if __name__ == "__main__":
    main()
