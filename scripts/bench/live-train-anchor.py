#!/usr/bin/python3
"""The anchor of scripts/bench/live-train: a recommender that keeps learning,
written the usual Python way.  It reads user<TAB>item<TAB>time lines from a
file or a pipe, keeps a sliding window of interactions (collections.deque,
the stream's latest time as now), and publishes item kNN (cosine, K=100:
../shared/bench/cf_anchors.py's knn, which builds the similarity with SciPy
sparse products) every EVERY records or SECONDS, written atomically
(temp file + os.replace) with the item names as JSON beside the matrix.

usage: live-train-anchor.py INPUT WINDOW_S EVERY_RECORDS EVERY_SECONDS OUT [TOP_ITEMS_JSON]
  EVERY_SECONDS 0: by records only.  At the end it prints one line:
  records, models, seconds; with TOP_ITEMS_JSON it writes the final
  neighbours of the items named in it (a JSON list) to OUT.top.json."""
import collections, json, os, pickle, sys, time

sys.path.insert(0, os.environ.get("PEA_CF_ANCHORS_DIR", os.path.join(os.path.dirname(__file__), "../../../shared/bench")))
import numpy as np, scipy.sparse as sp
import cf_anchors

inp, window, every, every_s, out = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
q = collections.deque()
now = None
models = 0
last = time.time()
S_last = None


def publish():
    global models, last, S_last
    users, items, rows, cols, vals = {}, {}, [], [], []
    for t, u, i in q:
        rows.append(users.setdefault(u, len(users)))
        cols.append(items.setdefault(i, len(items)))
        vals.append(1.0)
    X = sp.csr_matrix((np.array(vals, np.float32), (rows, cols)), shape=(len(users), len(items)))
    X.sum_duplicates()
    fn = cf_anchors.knn(X, 100)
    S = fn.__closure__[fn.__code__.co_freevars.index("S")].cell_contents  # the item x item matrix
    names = sorted(items, key=items.get)
    tmp = out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(json.dumps(names).encode() + b"\n")
        pickle.dump(S, f)
    os.replace(tmp, out)
    models += 1
    last = time.time()
    S_last = (S, names, items)


t0 = time.time()
n = 0
# a pipe is read a line at a time (iterating sys.stdin would wait for a full buffer)
f = iter(sys.stdin.readline, "") if inp == "-" else open(inp, encoding="utf-8")
for line in f:
    u, i, t = line.rstrip("\n").split("\t")
    t = int(t)
    q.append((t, u, i))
    now = t if now is None or t > now else now
    while q and q[0][0] <= now - window:
        q.popleft()
    n += 1
    if (every and n % every == 0) or (every_s and time.time() - last >= every_s):
        publish()
if not models or not (every and n % every == 0):
    publish()
print("%d %d %.3f" % (n, models, time.time() - t0))
if len(sys.argv) > 6:
    S, names, ids = S_last
    top = {}
    for it in json.load(open(sys.argv[6])):
        if it not in ids:
            continue
        r = S.getrow(ids[it])
        order = sorted(zip(-r.data, r.indices))[:10]
        top[it] = [names[j] for _, j in order]
    json.dump(top, open(out + ".top.json", "w"))
