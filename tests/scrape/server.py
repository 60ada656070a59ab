#!/usr/bin/env python3
"""A small HTTP/1.1 server for pea-scrape's tests and benchmark (127.0.0.1 only).

  server.py --port-file F [--log F]              the declared test cases below
  server.py --port-file F --root DIR --delay S   serve DIR, adding S seconds per response

It counts open connections and requests in flight per client address and
reports the asking client's peaks at /_stats (JSON; /_reset starts them
anew), so a test can assert the per-host bound.
Every request path is appended to --log.  It stops after --lifetime seconds.
"""
import argparse, gzip, json, os, socketserver, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Lock()
clients = {}  # client address -> its counters


def counters(addr):
    return clients.setdefault(addr, {"conns": 0, "peak_conns": 0, "inflight": 0, "peak_inflight": 0,
                                     "requests": 0})
hits = {}
args = None

PAGE = """<!DOCTYPE html><html lang="en"><head><title>{title}</title></head>
<body><nav><a href="/site/">Home</a> <a href="/site/p1.html">One</a></nav>
<main><h1>{title}</h1><p>{body}</p>{links}</main><footer>footer text</footer></body></html>"""


def site_page(n):
    links = "".join('<a href="p%d.html">page %d</a> ' % (k, k) for k in ((n + 1) % 6, (n + 2) % 6))
    links += '<a href="/private/secret.html">secret</a> <a href="p1.html#frag">frag</a>'
    links += ' <a href="HTTP://127.0.0.1:%d/site/./p%d.html">again</a>' % (args.port, n)
    links += ' <a href="mailto:x@example.org">mail</a> <a href="file:///etc/passwd">file</a>'
    return PAGE.format(title="Page %d" % n, body="words of page number %d" % n, links=links)


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # headers and body go out in two writes: without this, Nagle holds the
    # body until the client's delayed ACK (40 ms) on a kept-alive connection
    disable_nagle_algorithm = True

    def log_message(self, *a):
        pass

    # a connection counts from its first request that is not a control
    # request (/_stats, /_reset) until it closes
    counted = False

    def finish(self):
        super().finish()
        if self.counted:
            with lock:
                counters(self.client_address[0])["conns"] -= 1

    def send(self, code, body, ctype="text/html; charset=utf-8", headers=()):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self):
        if self.path in ("/_stats", "/_reset"):  # control requests count for nothing
            if self.path == "/_reset":
                return self.reset()
            with lock:
                body = json.dumps(counters(self.client_address[0]))
            return self.send(200, body, "application/json")
        with lock:
            stats = counters(self.client_address[0])
            if not self.counted:
                self.counted = True
                stats["conns"] += 1
                stats["peak_conns"] = max(stats["peak_conns"], stats["conns"])
            stats["inflight"] += 1
            stats["requests"] += 1
            stats["peak_inflight"] = max(stats["peak_inflight"], stats["inflight"])
            hits[self.path] = hits.get(self.path, 0) + 1
            n = hits[self.path]
        if args.log:
            with open(args.log, "a") as f:
                f.write("%s %s\n" % (self.path, self.headers.get("User-Agent", "")))
        try:
            if args.delay:
                time.sleep(args.delay)
            if args.root:
                self.serve_file()
            else:
                self.case(n)
        finally:
            with lock:
                counters(self.client_address[0])["inflight"] -= 1

    def reset(self):
        with lock:
            stats = counters(self.client_address[0])
            stats["peak_conns"] = stats["conns"]
            stats["peak_inflight"] = stats["inflight"]
        return self.send(200, "{}", "application/json")

    def serve_file(self):
        path = os.path.normpath(self.path.split("?")[0].split("#")[0]).lstrip("/")
        full = os.path.join(args.root, path)
        if os.path.isdir(full):
            full = os.path.join(full, "index.html")
        if ".." in path or not os.path.isfile(full):
            return self.send(404, "not found", "text/plain")
        ctype = "text/html" if full.endswith((".html", ".htm")) else "application/octet-stream"
        if full.endswith(".css"):
            ctype = "text/css"
        with open(full, "rb") as f:
            self.send(200, f.read(), ctype)

    def case(self, n):
        p = self.path
        if p == "/robots.txt":
            return self.send(200, "User-agent: *\nDisallow: /private/\n\nUser-agent: badbot\nDisallow: /\n",
                             "text/plain")
        if p == "/site/" or p.startswith("/site/p"):
            k = 0 if p == "/site/" else int(p[len("/site/p"):].split(".")[0])
            return self.send(200, site_page(k))
        if p.startswith("/private/"):
            return self.send(200, "<p>private</p>")
        if p == "/nofollow":
            return self.send(200, '<meta name="robots" content="noindex, nofollow"><p>x</p>'
                                  '<a href="/site/p5.html">p5</a>')
        if p == "/redirect":
            return self.send(302, "", headers=[("Location", "/site/p2.html")])
        if p == "/loop/a":
            return self.send(302, "", headers=[("Location", "/loop/b")])
        if p == "/loop/b":
            return self.send(301, "", headers=[("Location", "/loop/a")])
        if p == "/redirect-file":
            return self.send(302, "", headers=[("Location", "file:///etc/passwd")])
        if p == "/redirect-ftp":
            return self.send(302, "", headers=[("Location", "ftp://127.0.0.1/x")])
        if p == "/404":
            return self.send(404, "<h1>not found</h1>")
        if p == "/500":
            return self.send(500, "<h1>server error</h1>")
        if p == "/flaky":  # fails once, then works: a retry must fetch it
            if n == 1:
                return self.send(503, "busy")
            return self.send(200, "<title>flaky</title><p>second time lucky</p>")
        if p == "/slow":
            time.sleep(3)
            return self.send(200, "<p>too late</p>")
        if p == "/gzip":
            body = gzip.compress(b"<html><title>zipped</title><body><p>compressed body text</p></body></html>")
            return self.send(200, body, headers=[("Content-Encoding", "gzip")])
        if p == "/big":
            return self.send(200, "<p>" + "x" * (2 << 20) + "</p>")
        if p == "/latin1":
            body = "<html><title>caf\u00e9</title><body><p>cr\u00e8me br\u00fbl\u00e9e</p></body></html>"
            return self.send(200, body.encode("latin-1"), "text/html; charset=iso-8859-1")
        if p == "/meta-latin1":
            body = '<html><head><meta charset="iso-8859-1"><title>na\u00efve</title></head><p>\u00e0 la carte</p>'
            return self.send(200, body.encode("latin-1"), "text/html")
        if p == "/broken":
            return self.send(200, "<html><body><div><p>unclosed <b>bold <i>both</div></p>"
                                  "<table><td>cell<p>after</table><p>tail &copy &#169; &bogus; x</body>")
        if p == "/etag":  # conditional GET
            tag, lm = '"v1"', "Wed, 21 Oct 2026 07:28:00 GMT"
            if self.headers.get("If-None-Match") == tag or self.headers.get("If-Modified-Since") == lm:
                self.send_response(304)
                self.send_header("ETag", tag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            return self.send(200, "<p>versioned</p>", headers=[("ETag", tag), ("Last-Modified", lm)])
        if p.startswith("/stream"):  # an event stream: 5 events, 0.1 s apart, chunked
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            try:
                for i in range(5):
                    ev = ("data: event %d\n\n" % i).encode()
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(ev), ev))
                    self.wfile.flush()
                    time.sleep(0.1)
                self.wfile.write(b"0\r\n\r\n")
            except OSError:
                pass  # the client stopped listening
            return
        if p == "/text":
            return self.send(200, "plain text line\nsecond line\n", "text/plain; charset=utf-8")
        if p == "/binary":
            return self.send(200, b"\x89PNG\r\n\x1a\n\0\0", "image/png")
        if p.startswith("/conc/"):  # slow pages for the concurrency bound
            time.sleep(0.2)
            return self.send(200, "<title>c</title><p>%s</p>" % p)
        return self.send(404, "no such case", "text/plain")


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def handle_error(self, request, client_address):
        pass  # clients that hang up (timeouts, size limits) are part of the tests


def main():
    global args
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--log")
    ap.add_argument("--root")
    ap.add_argument("--delay", type=float, default=0)
    ap.add_argument("--lifetime", type=float, default=300)
    args = ap.parse_args()
    if not args.bind.startswith("127."):
        raise SystemExit("server.py: loopback addresses only")
    srv = Server((args.bind, 0), H)
    args.port = srv.server_address[1]
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % args.port)
    os.rename(tmp, args.port_file)
    threading.Timer(args.lifetime, srv.shutdown).start()
    srv.serve_forever()


if __name__ == "__main__":
    main()
