# Seed 001 §5.7: the file downloader's client (文件下载器). The seed only links to it; this is
# the program as such tutorials write it. It sends a bare file name and saves what ONE
# recv(1024) returns as "[新]NAME".
# Rust lesson: file-downloader, whose protocol differs (GET NAME\n, OK LENGTH\n): see README.md.
import socket


def main():
    # 1. 创建套接字
    tcp_socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # 2. 获取服务器的ip port
    dest_ip = input("请输入下载服务器的ip:")
    dest_port = int(input("请输入下载服务器的port:"))
    # 3. 链接服务器
    tcp_socket.connect((dest_ip, dest_port))
    # 4. 获取下载的文件名字
    download_file_name = input("请输入要下载的文件名字:")
    # 5. 将文件名字发送到服务器
    tcp_socket.send(download_file_name.encode("utf-8"))
    # 6. 接收文件中的数据
    # seed bug, kept: ONE recv(1024): any file over 1 KiB arrives cut, and nothing says so.
    recv_data = tcp_socket.recv(1024)  # 1024--->1K  1024*1024--->1M  1024*1024*1024--->1G
    if recv_data:
        # 7. 保存接收到的数据到一个文件中
        with open("[新]" + download_file_name, "wb") as f:
            f.write(recv_data)
    # 8. 关闭套接字
    tcp_socket.close()


if __name__ == "__main__":
    main()
