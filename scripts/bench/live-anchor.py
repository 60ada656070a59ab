#!/usr/bin/python3
"""The anchor of scripts/bench/live: what a Python user would write to
classify a Mastodon stream as it comes - urllib reading the server-sent
events, json, the HTML stripped, scikit-learn's HashingVectorizer and an
SGDClassifier (logistic loss) trained on the same texts as pea's model.

  live-anchor.py TRAIN.jsonl STREAM_URL    prints {"id": ..., "pred": ...} lines
"""
import html, json, re, sys, urllib.request
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.linear_model import SGDClassifier

rows = [json.loads(l) for l in open(sys.argv[1])]
vec = HashingVectorizer(n_features=2 ** 20, alternate_sign=True)
clf = SGDClassifier(loss="log_loss", random_state=1).fit(vec.transform([r["text"] for r in rows]),
                                                         [r["label"] for r in rows])
tags = re.compile(r"<[^>]+>")
resp = urllib.request.urlopen(urllib.request.Request(sys.argv[2], headers={"Accept": "text/event-stream"}))
event = None
for raw in resp:
    line = raw.decode("utf-8").rstrip("\r\n")
    if line.startswith("event:"):
        event = line[6:].strip()
    elif line.startswith("data:") and event == "update":
        st = json.loads(line[5:])
        text = html.unescape(tags.sub(" ", st.get("content", "")))
        pred = clf.predict(vec.transform([text]))[0]
        print(json.dumps({"id": st["id"], "pred": pred}), flush=True)
    elif not line:
        event = None
