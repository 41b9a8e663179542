# Seed 001 §5.5: the TCP client that asks for the server's IP and port, sends one line and
# prints the one reply.
# Rust lessons: tcp-echo (server --once --reply 再见,欢迎再次光临) and long-short (server). See README.md.
import socket


def main():
    # 创建tcp的套接字
    tcp_client_socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # 链接服务器
    server_ip = input("请输入要链接的服务器的ip地址:")
    server_port = int(input("请输入要链接的服务器的端口:"))
    server_addr = (server_ip, server_port)
    tcp_client_socket.connect(server_addr)
    # 发送数据/接收数据
    send_data = input("请输入要发送的信息:")
    # seed bug, kept: send() instead of sendall(); and no newline, so a line-based server can
    # only tell where the message ends by the silence after it.
    tcp_client_socket.send(send_data.encode("utf-8"))
    # seed bug, kept: ONE recv(1024): a longer reply arrives cut.
    recv_data = tcp_client_socket.recv(1024)
    print("接受到的数据为:{}".format(recv_data.decode("utf-8")))
    # 关闭套接字
    tcp_client_socket.close()


if __name__ == "__main__":
    main()
