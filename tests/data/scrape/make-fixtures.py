#!/usr/bin/env python3
"""Writes the scrape fixtures of this folder (run once; the outputs are committed)."""
import gzip, zlib

def crlf(s):
    return s.replace("\n", "\r\n").encode()

def record(headers, block):
    head = "WARC/1.0\n" + "".join("%s: %s\n" % kv for kv in headers) + "Content-Length: %d\n\n" % len(block)
    return crlf(head) + block + b"\r\n\r\n"

page = b"<html><head><title>Archived page</title></head><body><nav><a href='/'>home</a></nav>" \
       b"<main><p>Archived text from the crawl.</p></main></body></html>"
gz = gzip.compress(page)
chunked = b"%x\r\n" % len(gz[:40]) + gz[:40] + b"\r\n" + b"%x\r\n" % len(gz[40:]) + gz[40:] + b"\r\n0\r\n\r\n"
resp1 = crlf("HTTP/1.1 200 OK\nContent-Type: text/html; charset=utf-8\nContent-Encoding: gzip\n"
             "Transfer-Encoding: chunked\n\n") + chunked
latin = "<html><title>Caf\u00e9</title><p>cr\u00e8me br\u00fbl\u00e9e</p></html>".encode("latin-1")
resp2 = crlf("HTTP/1.1 200 OK\nContent-Type: text/html; charset=iso-8859-1\nContent-Length: %d\n\n" % len(latin)) + latin
resp404 = crlf("HTTP/1.1 404 Not Found\nContent-Type: text/html\n\n") + b"<p>gone</p>"

recs = [
    record([("WARC-Type", "warcinfo"), ("WARC-Date", "2026-01-02T03:04:05Z"),
            ("WARC-Record-ID", "<urn:uuid:00000000-0000-4000-8000-000000000001>"),
            ("Content-Type", "application/warc-fields")], b"software: hand-made fixture\r\n"),
    record([("WARC-Type", "request"), ("WARC-Target-URI", "http://example.org/a"),
            ("WARC-Date", "2026-01-02T03:04:05Z"), ("Content-Type", "application/http;msgtype=request")],
           crlf("GET /a HTTP/1.1\nHost: example.org\n\n")),
    record([("WARC-Type", "response"), ("WARC-Target-URI", "<http://example.org/a>"),
            ("WARC-Date", "2026-01-02T03:04:05Z"), ("Content-Type", "application/http; msgtype=response")], resp1),
    record([("WARC-Type", "response"), ("WARC-Target-URI", "http://example.org/latin"),
            ("WARC-Date", "2026-01-02T03:04:06Z"), ("Content-Type", "application/http;msgtype=response")], resp2),
    record([("WARC-Type", "metadata"), ("WARC-Target-URI", "http://example.org/a"),
            ("WARC-Date", "2026-01-02T03:04:06Z"), ("Content-Type", "application/warc-fields")], b"outlinks: none\r\n"),
    record([("WARC-Type", "response"), ("WARC-Target-URI", "http://example.org/gone"),
            ("WARC-Date", "2026-01-02T03:04:07Z"), ("Content-Type", "application/http;msgtype=response")], resp404),
    record([("WARC-Type", "resource"), ("WARC-Target-URI", "http://example.org/notes.txt"),
            ("WARC-Date", "2026-01-02T03:04:08Z"), ("Content-Type", "text/plain")], b"plain resource text\n"),
]
open("site.warc", "wb").write(b"".join(recs))
with open("site.warc.gz", "wb") as f:
    for r in recs:
        f.write(gzip.compress(r))

# --- mail: a SpamAssassin-like tree (files named .txt, an envelope line first)
import base64, os, quopri
os.makedirs("mail/spam-1", exist_ok=True)
os.makedirs("mail/easy-ham-1", exist_ok=True)
open("mail/easy-ham-1/00001.1a2b.txt", "wb").write(b"""From rssfeeds@example.com  Thu Aug 22 13:17:22 2002
Return-Path: <rssfeeds@example.com>
Received: from localhost (localhost [127.0.0.1])
\tby example.com (Postfix) with ESMTP id 123
Message-ID: <1@example.com>
From: Ann Example <ann@example.com>
To: bob@example.org
Subject: Meeting notes
Date: Thu, 22 Aug 2002 13:17:22 +0100

Hello Bob,
the meeting is at noon.
""")
open("mail/spam-1/00002.3c4d.txt", "wb").write(b"""Received: from mx.example.net by example.org
From: =?iso-8859-1?q?Caf=E9_Deals?= <deals@example.net>
Subject: =?utf-8?b?V2luIGEg4oKsMTAwMA==?= =?utf-8?q?_now!?=
Date: Fri, 23 Aug 2002 01:02:03 +0000
MIME-Version: 1.0
Content-Type: text/plain

Cheap offer: cr\xe8me br\xfbl\xe9e for you.
""")
html = "<html><body><p>Nested <b>HTML</b> part \u2013 ignored when plain exists</p></body></html>"
plain = "Caf\u00e9 cr\u00e8me: the plain part is preferred.\n" + "long line " * 10 + "\n"
att = base64.encodebytes(b"%PDF-1.4 fake attachment bytes\n" * 4).decode()
nested = """From: Carol <carol@example.com>
To: dave@example.com
Subject: Nested parts
Date: Sat, 24 Aug 2002 10:00:00 +0200
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

This is a multi-part message in MIME format.

--outer
Content-Type: multipart/alternative; boundary="inner"

--inner
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

""" + quopri.encodestring(plain.encode("latin-1")).decode() + """
--inner
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: base64

""" + base64.encodebytes(html.encode()).decode() + """
--inner--

--outer
Content-Type: application/pdf; name="offer.pdf"
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename="offer.pdf"

""" + att + """
--outer
Content-Type: text/html; charset=utf-8
Content-Disposition: inline

<p>An inline <i>HTML</i> footer.</p>
--outer--
"""
open("nested.eml", "wb").write(nested.encode())
mbox = b""
for i in range(3):
    mbox += b"From sender%d@example.com Mon Jan  1 00:00:00 2024\n" % i
    mbox += b"From: sender%d@example.com\nSubject: message %d\n\nbody of message %d\n>From quoted line\n\n" % (i, i, i)
open("three.mbox", "wb").write(mbox)
