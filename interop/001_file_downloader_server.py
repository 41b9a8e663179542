# Seed 001 §5.7: the file downloader's server (文件下载器) on ('', 7890). The seed only links to
# it; this is the program as such tutorials write it (scripts/seed_downloader.py holds the
# same program and a fixed one). It speaks no protocol: the request is a bare file name, the
# answer the file's bytes, and the end of the file is the end of the connection.
# Rust lesson: file-downloader, whose protocol differs (GET NAME\n, OK LENGTH\n): see README.md.
import os
import socket
import sys


def send_file_2_client(new_client_socket, client_addr):
    # 1. 接收客户端 需要下载的文件名
    # seed bug, kept: ONE recv(1024), taken to be the whole name.
    file_name = new_client_socket.recv(1024).decode("utf-8")
    print("客户端(%s)需要下载文件是:%s" % (str(client_addr), file_name))
    # interop, not in the seed: the seed opens any name it is sent, /etc/passwd included. Not
    # even a copy kept for comparison should serve that.
    if ".." in file_name or os.path.isabs(file_name):
        return

    file_content = None
    # 2. 打开这个文件,读取数据
    try:
        # seed bug, kept: the whole file is read into memory.
        f = open(file_name, "rb")
        file_content = f.read()
        f.close()
    except Exception as ret:
        print("没有要下载的文件(%s)" % file_name)

    # 3. 发送文件的数据给客户端
    # seed bug, kept: no length and no error message: a missing file gets silence, and the
    # client cannot tell a whole file from a cut one. send() instead of sendall().
    if file_content:
        new_client_socket.send(file_content)


def main():
    # 1. 创建套接字
    tcp_server_socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # 2. 绑定本地信息
    # interop: host and port from the command line (the seed's by default); port 0 prints the
    # port the OS chose, so that a test can learn it.
    host = sys.argv[1] if len(sys.argv) > 1 else ""
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 7890
    tcp_server_socket.bind((host, port))
    # 3. 让默认的套接字由主动变为被动 listen
    tcp_server_socket.listen(128)
    if port == 0:
        print("listening on %s:%d" % tcp_server_socket.getsockname()[:2], flush=True)

    while True:
        # 4. 等待客户端的链接
        new_client_socket, client_addr = tcp_server_socket.accept()
        # 5. 调用发送文件函数,完成为客户端服务
        send_file_2_client(new_client_socket, client_addr)
        # 6. 关闭套接字
        new_client_socket.close()
    tcp_server_socket.close()


if __name__ == "__main__":
    main()
