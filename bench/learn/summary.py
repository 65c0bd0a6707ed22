#!/usr/bin/python3
"""summary.py RESULTS.tsv THREADS REPEAT OUT.json — the tables of
bench/learn/run (markdown, as pasted into RESULTS.md) from its records:
section, size, depth, who, fit seconds, accuracy %, peak RSS MB[, extra]."""
import json, sys

rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
threads, repeat, out = sys.argv[2], sys.argv[3], sys.argv[4]


def num(s):
    try:
        v = float(s)
        return None if v != v else v
    except ValueError:
        return None


recs = [dict(section=r[0], size=int(r[1]), depth=int(r[2]), who=r[3], fit=num(r[4]), acc=num(r[5]),
             rss=num(r[6]), extra=num(r[7]) if len(r) > 7 else None,
             total=num(r[8]) if len(r) > 8 else None) for r in rows]
get = {(r["section"], r["size"], r["depth"], r["who"]): r for r in recs}


def f(v, fmt):
    return "-" if v is None else fmt % v


gb = sorted({(r["size"], r["depth"]) for r in recs if r["section"] == "gb"})
if gb:
    print("GB, %s threads, fit seconds (hamf and xgb: median of %s interleaved runs), accuracy %%, peak RSS MB" % (threads, repeat))
    print()
    print("| train rows | depth | hamf | XGBoost hist, ordinal (fastest) | hamf vs it | XGBoost categorical | hamf vs it | HistGradientBoosting | hamf vs it |")
    print("|---|---|---|---|---|---|---|---|---|")
    for s, d in gb:
        h = get.get(("gb", s, d, "hamf"))
        cells = ["%s" % format(s, ","), str(d), "%s s, %s %%, %s MB" % (f(h and h["fit"], "%.2f"), f(h and h["acc"], "%.2f"), f(h and h["rss"], "%.0f"))]
        for w in ("xgb", "xgbcat", "hgb"):
            p = get.get(("gb", s, d, w))
            if not p:
                cells += ["-", "-"]
                continue
            cells.append("%s s, %s %%, %s MB" % (f(p["fit"], "%.2f"), f(p["acc"], "%.2f"), f(p["rss"], "%.0f")))
            cells.append("**%.2fx**" % (p["fit"] / h["fit"]) if h and h["fit"] and p["fit"] else "-")
        print("| " + " | ".join(cells) + " |")
    print()
h, p = get.get(("seed", 100000, 3, "hamf")), None
for r in recs:
    if r["section"] == "seed" and r["who"] == "hamf":
        h = r
    if r["section"] == "seed" and r["who"] == "skgb":
        p = r
if h and p:
    print("seed config (1000 trees, depth 3) on %d rows (80 %% train): hamf %.2f s, %.2f %% vs GradientBoostingClassifier %.1f s, %.2f %%: **%.0fx**"
          % (h["size"], h["fit"], h["acc"], p["fit"], p["acc"], p["fit"] / h["fit"]))
h = next((r for r in recs if r["section"] == "rf" and r["who"] == "hamf"), None)
p = next((r for r in recs if r["section"] == "rf" and r["who"] == "skrf"), None)
if h and p:
    print("RF 100 trees on %s rows: hamf %.2f s, %.2f %% vs RandomForest(n_jobs=2) %.1f s, %.2f %%: **%.1fx**"
          % (format(h["size"], ","), h["fit"], h["acc"], p["fit"], p["acc"], p["fit"] / h["fit"]))
h = next((r for r in recs if r["section"] == "predict" and r["who"] == "hamf"), None)
p = next((r for r in recs if r["section"] == "predict" and r["who"] == "xgb"), None)
if h and p and h["fit"] and p["fit"]:
    print("batch predict (depth-6 model): hamf %.0f rows/s vs XGBoost %.0f rows/s (%.1fx); single row %.0f us vs %.2f ms"
          % (h["fit"], p["fit"], h["fit"] / p["fit"], h["extra"] or 0, p["extra"] or 0))
floor = next((r for r in recs if r["section"] == "e2e_floor"), None)
for r in recs:
    if r["section"] == "e2e":
        print("hamf train end to end, %s rows (100 trees, depth 3): total %.2f s, fit %.2f s, outside fit %.0f %%, peak RSS %.0f MB"
              % (format(r["size"], ","), r["extra"], r["fit"], 100 * (r["extra"] - r["fit"]) / r["extra"], r["rss"]))
        if floor:
            # outside <= 25 % of the total means outside <= fit / 3
            print("  the bare-minimum parse of the file takes %.2f s; outside the fit <= 25 %% needs <= %.2f s for all of it"
                  % (floor["fit"], r["fit"] / 3))
for r in recs:
    if r["section"] == "mem":
        print("memory (%s), %s rows (CSV %.0f MB), 200 trees depth 6: peak RSS %.0f MB = %.2fx the file, total %s s, fit %s s, accuracy %s %%"
              % (r["who"], format(r["size"], ","), r["extra"], r["rss"], r["rss"] / r["extra"], f(r["total"], "%.1f"),
                 f(r["fit"], "%.1f"), f(r["acc"], "%.2f")))
json.dump({"threads": int(threads), "repeat": int(repeat), "records": recs}, open(out, "w"), indent=1)
print("results: " + out)
