#!/usr/bin/python3
"""Main-content quality of text extractors against each page's own content element.

  scrape-quality.py PAGES_DIR NAME=OUTPUT ...

OUTPUT is a directory holding PAGE.txt for each PAGE.html, or a JSON Lines file
of records with "path" and "text" (pea scrape --json).  The reference of a page
is the text of what its markup marks as content: an element with role=main or
<main> when there is one, else one with id=content (asciidoc), else (DocBook pages such as PostgreSQL's) every child
of <body> except the navigation blocks (class navheader / navfooter).  Scores
are bag-of-words (lower-cased \\w+ tokens, counts clipped) precision, recall and
F1, micro-averaged over pages; "nav kept" is the share of pages whose output
holds, beyond the reference, at least half of the words that only the rest of
the page (navigation, headers, footers, sidebars) has; "code intact" the
share of <pre> lines found unchanged as a line of the output.
Run with Debian's python3 (lxml).
"""
import json, os, re, sys
from collections import Counter
import lxml.html

TOK = re.compile(r"\w+", re.UNICODE)


def bag(text):
    return Counter(t.lower() for t in TOK.findall(text or ""))


BLOCKS = set("address article aside blockquote br caption dd div dl dt figcaption figure footer h1 h2 h3 h4 h5 "
             "h6 header hr li main nav ol p pre section table tbody td tfoot th thead tr ul".split())


def reference(path):
    doc = lxml.html.parse(path).getroot()
    for bad in doc.xpath("//script|//style|//noscript"):
        bad.drop_tree()
    # text_content() glues neighbouring cells and blocks ("a</td><td>b" -> "ab"):
    # a browser shows them apart, so the reference does too
    for e in doc.iter():
        if isinstance(e.tag, str) and e.tag in BLOCKS:
            e.tail = "\n" + (e.tail or "")
    mains = doc.xpath("//*[@role='main']|//main") or doc.xpath("//*[@id='content']")
    pres = []
    body = doc.find("body")
    if body is None:
        body = doc
    if len(mains) == 1:
        content = [mains[0]]
    else:
        content = [e for e in body if isinstance(e.tag, str) and
                   not {"navheader", "navfooter"} & set((e.get("class") or "").split())]
    ref = "\n".join(e.text_content() for e in content)
    navt = body.text_content()  # the words outside the content are the navigation's
    for e in content:
        for p in e.iter("pre"):
            pres.extend(l.strip() for l in p.text_content().split("\n") if l.strip())
    return ref, navt, pres


def outputs(spec, pages_dir):
    if os.path.isdir(spec):
        return lambda name: open(os.path.join(spec, name[:-5] + ".txt"), encoding="utf-8", errors="replace").read() \
            if os.path.exists(os.path.join(spec, name[:-5] + ".txt")) else ""
    texts = {}
    for line in open(spec, encoding="utf-8"):
        r = json.loads(line)
        where = r.get("path") or r.get("url", "")
        # a file of the site (subdirectories may repeat names), else the URL's last part
        key = os.path.relpath(where, pages_dir) if r.get("path") else os.path.basename(where)
        texts[key] = r.get("text", "")
    return lambda name: texts.get(name, "")


def main():
    pages_dir, specs = sys.argv[1], sys.argv[2:]
    pages = sorted(f for f in os.listdir(pages_dir) if f.endswith(".html"))
    refs = {p: reference(os.path.join(pages_dir, p)) for p in pages}
    print("| extractor | precision | recall | F1 | pages keeping what is outside the content | code lines intact |")
    print("|---|---|---|---|---|---|")
    for spec in specs:
        name, out = spec.split("=", 1)
        get = outputs(out, pages_dir)
        tp = fp = fn = 0
        nav_pages = 0
        code_ok = code_all = 0
        for p in pages:
            ref, navt, pres = refs[p]
            got = get(p)
            rb, gb = bag(ref), bag(got)
            inter = sum((rb & gb).values())
            tp += inter
            fp += sum(gb.values()) - inter
            fn += sum(rb.values()) - inter
            nb = bag(navt) - rb  # words only the navigation has
            if sum(nb.values()) and sum((nb & (gb - rb)).values()) >= 0.5 * sum(nb.values()):
                nav_pages += 1
            lines = set(l.strip() for l in got.split("\n"))
            code_all += len(pres)
            code_ok += sum(1 for l in pres if l in lines)
        prec = tp / (tp + fp) if tp + fp else 0
        rec = tp / (tp + fn) if tp + fn else 0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0
        print("| %s | %.4f | %.4f | %.4f | %.1f %% | %.2f %% |" % (
            name, prec, rec, f1, 100.0 * nav_pages / len(pages), 100.0 * code_ok / max(code_all, 1)))


if __name__ == "__main__":
    main()
