#!/usr/bin/env python3
"""A small Mastodon look-alike for pea-scrape --follow's tests and the live
benchmark (127.0.0.1 only): the streaming API as server-sent events and the
timeline it backfills from.

  mastodon.py --port-file F [--token T] [--script S] [--rate R] [--log F]

Posts are published on a clock (--rate per second) once the first stream
client connects (and --start-delay seconds more), following --script, a comma-separated list of steps:
  post        publish the next post (ids 1, 2, 3, ...)
  edit:K      publish an edit of post K (event status.update)
  delete:K    delete post K (event delete)
  bad         send a malformed update event
  big         send an update event of 2 MiB
  drop        close every stream connection
  silence     every stream connection open now goes quiet, heartbeats too
              (it stays open until the client leaves)
  429         answer the next stream request 429 with Retry-After: 1
  wait        nothing this tick
  await       wait (up to 30 s) until a stream client is connected
Then POST-free control: GET /_publish?n=K publishes K more posts (one a tick),
/_stats gives counters as JSON.  Every post's publication time is written to
--log as "ID TIME" (time.time()), for the latency benchmark.  The timeline
(/api/v1/timelines/public, /tag/NAME) pages like Mastodon's (min_id,
since_id, max_id, limit, newest first; limit capped by --max-limit).
It stops after --lifetime seconds.
"""
import argparse, json, queue, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse, parse_qs

lock = threading.Lock()
posts = []          # published statuses, oldest first
clients = []        # queues of open stream connections
stats = {"streams": 0, "refused_429": 0, "unauthorized": 0, "timeline": 0, "published": 0,
         "after_429": [], "token_seen": 0}
state = {"next_id": 1, "started": False, "refuse": 0, "t429": None}
steps = queue.Queue()
args = None
WORDS = {"spam": "cheap pills casino offer winner prize cash discount".split(),
         "ham": "meeting project lunch garden family book music weekend".split()}


def status(k, edited=False):
    label = "spam" if k % 3 == 0 else "ham"
    words = [WORDS[label][(k * 7 + i * 3) % 8] for i in range(8)]
    body = " ".join(words) + (" edited" if edited else "")
    tag = "pea%d" % (k % 2)
    return {
        "id": str(k), "created_at": "2024-05-01T12:00:%02d.000Z" % (k % 60),
        "edited_at": "2024-05-01T13:00:00.000Z" if edited else None,
        "url": "https://social.example/@user%d/%d" % (k % 5, k), "uri": "https://social.example/s/%d" % k,
        "account": {"id": str(k % 5), "acct": "user%d" % (k % 5), "username": "user%d" % (k % 5)},
        "content": "<p>post %d: %s <a href=\"https://social.example/tags/%s\" class=\"mention hashtag\">#<span>%s</span></a></p>" % (k, body, tag, tag),
        "spoiler_text": "", "language": "en", "visibility": "public",
        "tags": [{"name": tag, "url": "https://social.example/tags/" + tag}],
        "mentions": [{"id": "9", "acct": "friend@other.example", "username": "friend"}] if k % 4 == 0 else [],
        "reblog": None,
    }


def broadcast(ev, data):
    msg = ("event: %s\ndata: %s\n\n" % (ev, data)).encode()
    with lock:
        for q in clients:
            q.put(msg)


def publish_one():
    with lock:
        k = state["next_id"]
        state["next_id"] += 1
        st = status(k)
        posts.append(st)
        stats["published"] += 1
    if args.log:
        with open(args.log, "a") as f:
            f.write("%d %.6f\n" % (k, time.time()))
    broadcast("update", json.dumps(st))


def run_step(s):
    if s == "post":
        publish_one()
    elif s.startswith("edit:"):
        k = int(s[5:])
        st = status(k, edited=True)
        with lock:
            for i, p in enumerate(posts):
                if p["id"] == str(k):
                    posts[i] = st
        broadcast("status.update", json.dumps(st))
    elif s.startswith("delete:"):
        k = s[7:]
        with lock:
            posts[:] = [p for p in posts if p["id"] != k]
        broadcast("delete", k)
    elif s == "bad":
        broadcast("update", '{"id": "x", "content": unquoted}')
    elif s == "big":
        broadcast("update", json.dumps({"id": "big", "content": "x" * (2 << 20)}))
    elif s == "drop":
        with lock:
            for q in clients:
                q.put(None)
    elif s == "silence":
        with lock:
            for q in clients:
                q.put(b"silence")
    elif s == "await":
        for _ in range(1500):
            with lock:
                if clients:
                    break
            time.sleep(0.02)
    elif s == "429":
        with lock:
            state["refuse"] += 1


def start_script():
    time.sleep(args.start_delay)
    for s in args.script.split(",") if args.script else []:
        steps.put(s)


def publisher():
    while True:
        s = steps.get()
        run_step(s)
        time.sleep(1.0 / args.rate)


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, *a):
        pass

    def reply(self, code, body, ctype="application/json", headers=()):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def authorized(self):
        if not args.token:
            return True
        if self.headers.get("Authorization") == "Bearer " + args.token:
            with lock:
                stats["token_seen"] += 1
            return True
        with lock:
            stats["unauthorized"] += 1
        self.reply(401, '{"error":"The access token is invalid"}')
        return False

    def do_GET(self):
        u = urlparse(self.path)
        q = parse_qs(u.query)
        if u.path == "/_stats":
            with lock:
                return self.reply(200, json.dumps(stats))
        if u.path == "/_publish":
            for _ in range(int(q.get("n", ["1"])[0])):
                steps.put("post")
            return self.reply(200, "{}")
        if u.path.startswith("/api/v1/streaming"):
            return self.stream()
        if u.path.startswith("/api/v1/timelines/"):
            return self.timeline(q)
        self.reply(404, '{"error":"Record not found"}')

    def timeline(self, q):
        if not self.authorized():
            return
        limit = min(int(q.get("limit", ["20"])[0]), args.max_limit)
        with lock:
            stats["timeline"] += 1
            ps = list(posts)
        key = lambda p: int(p["id"])
        if "max_id" in q:
            ps = [p for p in ps if key(p) < int(q["max_id"][0])]
        if "min_id" in q:  # the page just after min_id
            ps = [p for p in ps if key(p) > int(q["min_id"][0])][:limit]
        else:
            if "since_id" in q:
                ps = [p for p in ps if key(p) > int(q["since_id"][0])]
            ps = ps[-limit:]
        self.reply(200, json.dumps(list(reversed(ps))))

    def stream(self):
        with lock:
            if state["refuse"]:
                state["refuse"] -= 1
                stats["refused_429"] += 1
                state["t429"] = time.time()
                refuse = True
            else:
                refuse = False
        if refuse:
            return self.reply(429, '{"error":"Too many requests"}', headers=[("Retry-After", "1")])
        if not self.authorized():
            return
        qu = queue.Queue()
        with lock:
            stats["streams"] += 1
            if state["t429"] is not None:
                stats["after_429"].append(round(time.time() - state["t429"], 3))
                state["t429"] = None
            clients.append(qu)
            first = not state["started"]
            state["started"] = True
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        try:
            self.wfile.write(b":)\n")
            self.wfile.flush()
            if first:
                threading.Thread(target=start_script, daemon=True).start()
            while True:
                try:
                    msg = qu.get(timeout=args.heartbeat)
                except queue.Empty:
                    msg = b":thump\n"
                if msg is None:
                    break
                if msg == b"silence":  # a hung server: nothing more, ever
                    self.connection.settimeout(None)
                    while self.connection.recv(1):
                        pass
                    break
                self.wfile.write(msg)
                self.wfile.flush()
        except OSError:  # the client went away
            pass
        finally:
            with lock:
                clients.remove(qu)


def main():
    global args
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--token")
    ap.add_argument("--script", default="")
    ap.add_argument("--rate", type=float, default=20)
    ap.add_argument("--heartbeat", type=float, default=0.5)
    ap.add_argument("--max-limit", type=int, default=40)
    ap.add_argument("--log")
    ap.add_argument("--start-delay", type=float, default=0)
    ap.add_argument("--lifetime", type=float, default=120)
    args = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    srv.daemon_threads = True
    threading.Thread(target=publisher, daemon=True).start()
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os
    os.rename(args.port_file + ".tmp", args.port_file)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    time.sleep(args.lifetime)


if __name__ == "__main__":
    main()
