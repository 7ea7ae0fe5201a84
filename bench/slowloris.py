#!/usr/bin/env python3
"""Slow clients against `gpbo serve`: how long /v1/health takes while N connections trickle
half a request head, and how long the server lets them hang on.

    python3 bench/slowloris.py HOST PORT [--connections 40] [--trickle 1.0] [--hold 30]

Each slow connection sends "GET /v1/health HTTP/1.1\\r\\nHost: x\\r\\n" and then one header byte
every --trickle seconds (never the blank line that ends the head). Meanwhile /v1/health is
timed on fresh connections once a second. Prints one JSON line: the health latencies (max,
median), and when the server closed the slow connections (seconds after they opened; null
for those still open after --hold seconds).
"""
import argparse
import json
import socket
import statistics
import threading
import time


def slow_client(host, port, trickle, hold, closed_after, index, started):
    s = socket.create_connection((host, port))
    s.settimeout(0.1)
    t0 = time.monotonic()
    started.release()
    try:
        s.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n")
        last_send = time.monotonic()
        while time.monotonic() - t0 < hold:
            try:
                if time.monotonic() - last_send >= trickle:
                    s.sendall(b"X")
                    last_send = time.monotonic()
                if s.recv(1024) == b"":
                    break
            except socket.timeout:
                pass
            except OSError:
                break
        else:
            return
        closed_after[index] = round(time.monotonic() - t0, 2)
    finally:
        s.close()


def health(host, port):
    t0 = time.monotonic()
    with socket.create_connection((host, port), timeout=120) as s:
        s.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        reply = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            reply += chunk
    ok = reply.startswith(b"HTTP/1.1 200")
    return time.monotonic() - t0, ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--connections", type=int, default=40)
    ap.add_argument("--trickle", type=float, default=1.0)
    ap.add_argument("--hold", type=float, default=30.0)
    ap.add_argument("--probes", type=int, default=10)
    a = ap.parse_args()
    closed_after = [None] * a.connections
    started = threading.Semaphore(0)
    threads = [threading.Thread(target=slow_client, daemon=True,
                                args=(a.host, a.port, a.trickle, a.hold, closed_after, i, started))
               for i in range(a.connections)]
    for t in threads:
        t.start()
    for _ in threads:
        started.acquire()
    time.sleep(0.5)
    latencies, failures = [], 0
    for _ in range(a.probes):
        seconds, ok = health(a.host, a.port)
        latencies.append(seconds)
        failures += 0 if ok else 1
        time.sleep(max(0.0, 1.0 - seconds))
    for t in threads:
        t.join()
    still_open = sum(1 for c in closed_after if c is None)
    closed = [c for c in closed_after if c is not None]
    print(json.dumps({
        "connections": a.connections, "trickle_s": a.trickle,
        "health_max_s": round(max(latencies), 3),
        "health_median_s": round(statistics.median(latencies), 3),
        "health_failures": failures,
        "slow_closed": len(closed), "slow_still_open_after_hold": still_open,
        "slow_closed_after_max_s": max(closed) if closed else None,
    }))


if __name__ == "__main__":
    main()
