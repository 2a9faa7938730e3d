"""A long-lived TCP client for fake VMs: ``python3 holder.py IP PORT``.

Connects and checks one echo (prints ``connected``), then for every line read on stdin
sends one more and prints ``alive`` when it comes back within 3 seconds, ``dead``
otherwise.
"""

import socket
import sys

conn = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
reader = conn.makefile("rb")
conn.sendall(b"hello\n")
print("connected" if reader.readline() == b"hello\n" else "dead", flush=True)
conn.settimeout(3)
for _ in sys.stdin:
    try:
        conn.sendall(b"again\n")
        print("alive" if reader.readline() == b"again\n" else "dead", flush=True)
    except OSError:
        print("dead", flush=True)
