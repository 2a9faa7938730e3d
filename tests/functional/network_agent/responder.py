"""A TCP responder for fake VMs, run inside a namespace: ``python3 responder.py PORT``.

Default: answers every connection with ``peer=<address>`` and closes it. With ``echo``
it keeps each connection open and echoes lines back (for long-lived connections); with
``udp`` it answers every datagram with ``peer=<address>``. Prints ``ready`` once
listening.
"""

import socket
import sys
import threading


def echo(conn):
    with conn:
        for line in conn.makefile("rb"):
            conn.sendall(line)


if sys.argv[2:] == ["udp"]:
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind(("0.0.0.0", int(sys.argv[1])))
    print("ready", flush=True)
    while True:
        _, (peer, port) = server.recvfrom(2048)
        server.sendto(f"peer={peer}\n".encode(), (peer, port))

server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("0.0.0.0", int(sys.argv[1])))
server.listen(16)
print("ready", flush=True)
while True:
    conn, (peer, _) = server.accept()
    if sys.argv[2:] == ["echo"]:
        threading.Thread(target=echo, args=(conn,), daemon=True).start()
        continue
    try:
        conn.sendall(f"peer={peer}\n".encode())
    except OSError:
        pass
    finally:
        conn.close()
