#!/usr/bin/env python3
"""dnsq.py - DNS queries no stub resolver sends, for the bypass tests.

  dnsq.py udp ADDRESS NAME...        one query, one question per NAME
  dnsq.py tcp ADDRESS MODE NAME...   one query per NAME, over one TCP
                                     connection, MODE:
      one    every query in one segment (one send, TCP_NODELAY)
      seq    each query in its own segment, its answer awaited first
      split  one query, its two length bytes in a segment of their own

NAME is NAME or NAME/TYPE (A, AAAA, MX; A when left out).  Prints a line
per answer: "answer rcode RCODE qd N an N ADDRESS...", and ends with
"timeout", "reset" or "closed" when the server stops answering.  Standard
library only.
"""
import socket
import struct
import sys
import time

TYPES = {"A": 1, "AAAA": 28, "MX": 15}
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN",
          4: "NOTIMP", 5: "REFUSED"}


def qname(name):
    out = b""
    for label in name.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def query(names, qid):
    body = b""
    for n in names:
        name, _, t = n.partition("/")
        body += qname(name) + struct.pack("!HH", TYPES.get(t or "A", 1), 1)
    return struct.pack("!HHHHHH", qid, 0x0100, len(names), 0, 0, 0) + body


def skip_name(m, i):
    while True:
        b = m[i]
        if b == 0:
            return i + 1
        if b & 0xc0 == 0xc0:
            return i + 2
        i += 1 + b


def describe(m):
    qid, flags, qd, an, ns, ar = struct.unpack("!HHHHHH", m[:12])
    i = 12
    for _ in range(qd):
        i = skip_name(m, i) + 4
    addrs = []
    for _ in range(an):
        i = skip_name(m, i)
        t, _, _, rdlen = struct.unpack("!HHIH", m[i:i + 10])
        rd = m[i + 10:i + 10 + rdlen]
        if t == 1:
            addrs.append(socket.inet_ntop(socket.AF_INET, rd))
        elif t == 28:
            addrs.append(socket.inet_ntop(socket.AF_INET6, rd))
        i += 10 + rdlen
    return "answer rcode %s qd %d an %d %s" % (
        RCODES.get(flags & 0xf, str(flags & 0xf)), qd, an, " ".join(addrs))


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def udp(addr, names):
    s = socket.socket(family(addr), socket.SOCK_DGRAM)
    s.settimeout(2)
    s.sendto(query(names, 0x4242), (addr, 53))
    try:
        print(describe(s.recv(65535)))
    except socket.timeout:
        print("timeout")


def recv_msg(s):
    def exactly(n):
        b = b""
        while len(b) < n:
            got = s.recv(n - len(b))
            if not got:
                raise EOFError
            b += got
        return b
    n = struct.unpack("!H", exactly(2))[0]
    return exactly(n)


def tcp(addr, mode, names):
    s = socket.socket(family(addr), socket.SOCK_STREAM)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.settimeout(2)
    msgs = []
    for i, n in enumerate(names):
        q = query([n], 0x5100 + i)
        msgs.append(struct.pack("!H", len(q)) + q)
    try:
        s.connect((addr, 53))
        if mode == "one":
            s.send(b"".join(msgs))
            for _ in msgs:
                print(describe(recv_msg(s)))
        elif mode == "seq":
            for m in msgs:
                s.send(m)
                print(describe(recv_msg(s)))
        elif mode == "split":
            s.send(msgs[0][:2])
            time.sleep(0.2)
            s.send(msgs[0][2:])
            print(describe(recv_msg(s)))
    except socket.timeout:
        print("timeout")
    except ConnectionResetError:
        print("reset")
    except EOFError:
        print("closed")


def main():
    if sys.argv[1] == "udp":
        udp(sys.argv[2], sys.argv[3:])
    else:
        tcp(sys.argv[2], sys.argv[3], sys.argv[4:])


main()
