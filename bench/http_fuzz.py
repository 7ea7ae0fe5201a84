#!/usr/bin/env python3
"""A generated-request fuzzer for `gpbo serve` (stdlib only): random methods, paths (real
routes, mangled ones, odd percent-encodings), headers (tokens, lengths, encodings) and bodies
(valid requests, mutated ones, malformed JSON, huge numbers, wrong types, deep nesting).

    python3 bench/http_fuzz.py HOST PORT [--requests 100000] [--threads 4] [--seed 1]
                               [--token T]

Needs a server with a study "demo" (created here when missing). Counts the replies by status
and fails (exit 1) on any 5xx, any reply that is not JSON (but the HTML report and the 408 of
a cut-off head), or a connection the server dropped without a reply to a complete request.
Prints one JSON line: requests, seconds, statuses.
"""
import argparse
import http.client
import json
import random
import socket
import sys
import threading
import time
import urllib.parse

METHODS = ["GET", "POST", "DELETE", "PUT", "PATCH", "HEAD", "OPTIONS"]
ROUTES = ["/v1/health", "/v1/studies", "/v1/studies/{s}", "/v1/studies/{s}/ask",
          "/v1/studies/{s}/trials", "/v1/studies/{s}/trials/{t}",
          "/v1/studies/{s}/trials/{t}/tell", "/v1/studies/{s}/trials/{t}/heartbeat",
          "/v1/studies/{s}/enqueue", "/v1/studies/{s}/best", "/v1/studies/{s}/pareto",
          "/v1/studies/{s}/log", "/v1/studies/{s}/report"]
SPACE = {"params": [{"name": "x", "type": "float", "low": -5.0, "high": 5.0},
                    {"name": "n", "type": "int", "low": 0, "high": 20},
                    {"name": "c", "type": "categorical", "choices": ["a", "b"]}]}
ODD_NUMBERS = [0, -1, 1e308, -1e308, 1.7976931348623157e308, 5e-324, 2**63, 2**64, -2**63 - 1,
               10**30, 1e-320, 3.5, True, None, "1", [], {}]


def rand_string(r):
    alphabet = "abcXYZ019-_.~%/?#&=+ \t\u00e9\u2603\x00\x7f"
    return "".join(r.choice(alphabet) for _ in range(r.randint(0, 12)))


def rand_token(r):
    alphabet = "abcXYZ019-_.~%+/= "
    return "".join(r.choice(alphabet) for _ in range(r.randint(0, 40)))


def rand_value(r, depth=0):
    k = r.randint(0, 7)
    if k == 0:
        return r.choice(ODD_NUMBERS)
    if k == 1:
        return rand_string(r)
    if k == 2 and depth < 3:
        return [rand_value(r, depth + 1) for _ in range(r.randint(0, 4))]
    if k == 3 and depth < 3:
        return {rand_string(r): rand_value(r, depth + 1) for _ in range(r.randint(0, 4))}
    if k == 4:
        return r.uniform(-1e6, 1e6)
    if k == 5:
        return r.randint(-10, 10**6)
    return r.choice([True, False, None])


def valid_body(r, route):
    if route.endswith("/ask"):
        return {"q": r.choice([1, 1, 2, 0, -1, 10**9, 1.5, "1"]), "worker_id": rand_string(r)}
    if route.endswith("/tell"):
        return r.choice([{"value": r.choice(ODD_NUMBERS + [r.uniform(-1, 1)])},
                         {"state": r.choice(["failed", "pruned", "complete", 1])},
                         {"values": {"objective": r.choice(ODD_NUMBERS)}},
                         {"value": 1.0, "skip_if_finished": r.choice([True, "yes", 1])}])
    if route.endswith("/enqueue"):
        return {"params": {"x": r.choice(ODD_NUMBERS), "n": r.choice(ODD_NUMBERS), "c": "a"}}
    if route.endswith("/trials"):
        return {"trials": [{"params": {"x": 0.5, "n": 1, "c": "b"},
                            "value": r.choice(ODD_NUMBERS)}]}
    if route == "/v1/studies":
        space = json.loads(json.dumps(SPACE))
        p = r.choice(space["params"])
        p[r.choice(list(p.keys()))] = rand_value(r)
        return {"name": "f" + str(r.randint(0, 50)), "space": space if r.random() < 0.8 else SPACE,
                "direction": r.choice(["minimize", "maximize", "up", 1]),
                "options": r.choice([{}, {"seed": r.choice(ODD_NUMBERS)},
                                     {"n_initial": r.choice([1, 5, 1000, -3, 10**12])},
                                     {rand_string(r): rand_value(r)}])}
    return {}


def make_body(r, route):
    k = r.random()
    if k < 0.45:
        return json.dumps(valid_body(r, route)).encode()
    if k < 0.6:
        body = valid_body(r, route)
        if isinstance(body, dict) and body:
            body[r.choice(list(body.keys()))] = rand_value(r)
        body[rand_string(r)] = rand_value(r) if r.random() < 0.3 else None
        return json.dumps(body).encode()
    if k < 0.7:
        text = json.dumps(valid_body(r, route))
        cut = r.randint(0, len(text))
        return (text[:cut] + r.choice(["", "}", "{", ",", "\"", "\\", "\x00", "NaN",
                                       "Infinity", "1e99999"])).encode()
    if k < 0.75:
        depth = r.randint(20, 200)
        return ("[" * depth + "]" * depth).encode()
    if k < 0.8:
        return bytes(r.randint(0, 255) for _ in range(r.randint(0, 64)))
    if k < 0.85:
        return ("{\"q\": " + "9" * r.randint(20, 400) + "}").encode()
    if k < 0.9:
        return b""
    return json.dumps(rand_value(r)).encode()


def make_path(r, study):
    route = r.choice(ROUTES)
    s = study if r.random() < 0.8 else rand_string(r).replace("/", "%2F") or "x"
    t = str(r.choice([0, 1, 2, 3, 10**6, 2**63, 99999999999999999999]))
    path = route.replace("{s}", s).replace("{t}", t)
    k = r.random()
    if k < 0.05:
        path += "?" + rand_string(r)
    elif k < 0.08:
        path = path.replace("/v1", "/v1/")
    elif k < 0.1:
        path = path + "%" + r.choice(["", "0", "zz", "00"])
    elif k < 0.12:
        path = "/" + rand_string(r)
    # Control bytes, spaces and non-ASCII are percent-encoded (a client cannot send them raw);
    # stray '%' sequences stay as they are.
    return route, urllib.parse.quote(path, safe="/%?=&+~-_.#")


class Worker(threading.Thread):
    def __init__(self, args, seed, quota, stats, failures, lock):
        super().__init__(daemon=True)
        self.a, self.r, self.quota = args, random.Random(seed), quota
        self.stats, self.failures, self.lock = stats, failures, lock

    def connect(self):
        return http.client.HTTPConnection(self.a.host, self.a.port, timeout=120)

    def run(self):
        conn = self.connect()
        self.previous = None
        for _ in range(self.quota):
            r = self.r
            route, path = make_path(r, "demo")
            method = r.choice(METHODS) if r.random() < 0.3 else (
                "GET" if "{t}/" not in route and not route.endswith(("/ask", "/enqueue"))
                and r.random() < 0.5 else "POST")
            if method == "DELETE" and path == "/v1/studies/demo":
                path = "/v1/studies/f" + str(r.randint(0, 50))  # keep the study under test
            headers = {}
            if self.a.token and r.random() < 0.9:
                headers["Authorization"] = "Bearer " + self.a.token
            elif r.random() < 0.5:
                headers["Authorization"] = r.choice(["Bearer", "Bearer ", "Basic x",
                                                      "Bearer " + rand_token(r)])
            body = make_body(r, route) if method in ("POST", "PUT", "PATCH") else None
            if r.random() < 0.05:
                headers["Content-Type"] = r.choice(["text/plain", "application/json; x", ""])
            if r.random() < 0.02:
                headers["Content-Encoding"] = r.choice(["gzip", "br", "deflate", "x"])
            try:
                conn.request(method, path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                status = resp.status
                ctype = resp.getheader("Content-Type", "")
                if resp.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = self.connect()
            except (http.client.HTTPException, OSError) as e:
                with self.lock:
                    self.failures.append(f"{method} {path} {headers} {body!r:.100}: no reply ({e!r}); "
                                         f"after {self.previous}")
                conn.close()
                conn = self.connect()
                continue
            self.previous = (method, path, headers, body[:100] if body else body, status)
            if getattr(self.a, "trace", None):
                self.a.trace.write(repr((method, path, headers, body, status)) + "\n")
            bad = status >= 500
            if not bad and method != "HEAD" and "text/html" not in ctype:
                try:
                    json.loads(data)
                except ValueError:
                    bad = status != 408
            with self.lock:
                self.stats[status] = self.stats.get(status, 0) + 1
                if bad:
                    self.failures.append(f"{method} {path} {body!r:.200}: {status} {data!r:.200}")
        conn.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--requests", type=int, default=100000)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--token", default="")
    ap.add_argument("--trace", type=argparse.FileType("w"),
                    help="write every request and its status here (to replay a failure)")
    a = ap.parse_args()
    headers = {"Authorization": "Bearer " + a.token} if a.token else {}
    c = http.client.HTTPConnection(a.host, a.port, timeout=60)
    c.request("POST", "/v1/studies", json.dumps({"name": "demo", "space": SPACE,
                                                 "options": {"n_initial": 100000}}), headers)
    c.getresponse().read()
    c.close()
    stats, failures, lock = {}, [], threading.Lock()
    per = a.requests // a.threads
    workers = [Worker(a, a.seed * 1000 + i, per + (1 if i < a.requests % a.threads else 0),
                      stats, failures, lock) for i in range(a.threads)]
    t0 = time.monotonic()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    seconds = time.monotonic() - t0
    c = http.client.HTTPConnection(a.host, a.port, timeout=10)
    c.request("GET", "/v1/health")
    alive = c.getresponse().status == 200
    print(json.dumps({"requests": sum(stats.values()) + len(failures),
                      "seconds": round(seconds, 1), "alive": alive, "failures": len(failures),
                      "statuses": {str(k): v for k, v in sorted(stats.items())}}))
    for f in failures[:20]:
        print("FAIL", f, file=sys.stderr)
    sys.exit(0 if alive and not failures else 1)


if __name__ == "__main__":
    main()
