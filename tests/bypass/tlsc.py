#!/usr/bin/env python3
"""tlsc.py - a real TLS client (OpenSSL, through Python's ssl module) whose
ClientHello goes on the wire the way a bypass test asks:

  tlsc.py ADDRESS PORT SNI MODE

SNI is sent exactly as given (case, trailing dot); "-" sends none.  MODE:
  plain      as any client: the hello in one record, one segment
  seg1       every byte of the hello in its own TCP segment
  rec2       the hello's handshake message split across two TLS records
  rec2seg1   both
  pause      the hello's first 5 bytes (its record header), then 11 s of
             nothing (past safegated's 10 s wait for a name), then the rest
Prints one line: "handshake ok CIPHER", "reset", "closed", "timeout",
"alert ..." or "error ...".  Only the hello is reshaped; the rest of the
handshake goes as OpenSSL writes it.
"""
import socket
import ssl
import sys
import time


def records(hello, cut):
    """The first record's handshake bytes again, in two records."""
    out = b""
    pos = 0
    while pos + 5 <= len(hello):
        n = int.from_bytes(hello[pos + 3:pos + 5], "big")
        body = hello[pos + 5:pos + 5 + n]
        hdr = hello[pos:pos + 3]
        if hello[pos] == 22 and pos == 0 and len(body) > cut:
            for part in (body[:cut], body[cut:]):
                out += hdr + len(part).to_bytes(2, "big") + part
        else:
            out += hello[pos:pos + 5 + n]
        pos += 5 + n
    return out


def main():
    addr, port, sni, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname=None if sni == "-" else sni)
    s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.settimeout(20 if mode == "pause" else 5)
    first = True
    try:
        s.connect((addr, port))
        while True:
            try:
                obj.do_handshake()
                done = True
            except ssl.SSLWantReadError:
                done = False
            data = out.read()
            if data and first:
                first = False
                if mode.startswith("rec2"):
                    data = records(data, 40)
                if mode == "pause":
                    s.send(data[:5])
                    time.sleep(11)
                    data = data[5:]
                    s.settimeout(5)
                elif mode.endswith("seg1"):
                    for i in range(len(data)):
                        s.send(data[i:i + 1])
                        time.sleep(0.002)
                    data = b""
            if data:
                s.sendall(data)
            if done:
                print("handshake ok", obj.cipher()[0])
                return
            got = s.recv(65536)
            if not got:
                print("closed")
                return
            inc.write(got)
    except ssl.SSLError as e:
        print("alert", e.reason)
    except ConnectionResetError:
        print("reset")
    except socket.timeout:
        print("timeout")
    except OSError as e:
        print("error", e)


main()
