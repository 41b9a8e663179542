# Seed 001 §4.4: the UDP chat program (udp聊天器). The seed only links to it; this is the
# program as such tutorials write it: a menu, and input() or recvfrom() on one thread, in GBK
# like the rest of the seed's UDP part.
# Rust lesson: udp-chat (cargo run -p udp-chat -- --encoding gbk). See README.md.
import socket
import sys


def send_msg(udp_socket):
    """发送消息"""
    dest_ip = input("请输入对方的ip:")
    dest_port = int(input("请输入对方的port:"))
    send_data = input("请输入要发送的消息:")
    udp_socket.sendto(send_data.encode("gbk"), (dest_ip, dest_port))


def recv_msg(udp_socket):
    """接收消息"""
    # seed bug, kept: while the program waits here it cannot send, and while it waits in
    # input() it cannot receive (the Rust chat receives on a thread of its own).
    # seed bug, kept: recvfrom(1024) cuts a longer message.
    recv_data = udp_socket.recvfrom(1024)
    # seed bug, kept: a strict decode: a message that is not GBK raises and ends the chat.
    print("%s:%s" % (str(recv_data[1]), recv_data[0].decode("gbk")))


def main():
    # 1. 创建套接字
    udp_socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    # 2. 绑定本地信息
    # interop: host and port from the command line (the seed's by default); port 0 prints the
    # port the OS chose, so that a test can learn it.
    host = sys.argv[1] if len(sys.argv) > 1 else ""
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 7788
    udp_socket.bind((host, port))
    if port == 0:
        print("bound to %s:%d" % udp_socket.getsockname()[:2], flush=True)
    # 3. 循环来进行处理事情
    while True:
        print("-----udp聊天器-----")
        print("1:发送消息")
        print("2:接收消息")
        print("0:退出系统")
        op = input("请输入功能:")
        if op == "1":
            send_msg(udp_socket)
        elif op == "2":
            recv_msg(udp_socket)
        elif op == "0":
            break
        else:
            print("输入有误请重新输入...")
    # 4. 关闭套接字
    udp_socket.close()


if __name__ == "__main__":
    main()
