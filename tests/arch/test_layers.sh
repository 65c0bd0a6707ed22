#!/usr/bin/env bash
# The layers of src/ only look down (src/README.md):
#   util(1) < data(2), store(2) < ml(3) < track(4) < server(5) < app(6) < cli(7)
# Fails on
#  - an #include from a src/ folder of a header in a higher folder, or in
#    another folder of the same layer (data and store do not see each other);
#  - src/cli/ including anything but include/ (hamf.h) and src/cli/ headers;
#  - a call that runs upward or a call loop between folders: from `nm` of the
#    objects in $HAMF_BUILD/obj/src, which folder defines each symbol a
#    folder's objects leave undefined.
# LAYERS_SRC / LAYERS_OBJ override the trees checked (the self-test below
# points them at a scratch copy with a deliberate wrong-way include).
set -euo pipefail
ROOT=${HAMF_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${HAMF_BUILD:-$ROOT/build}
SRC=${LAYERS_SRC:-$ROOT/src}
OBJ=${LAYERS_OBJ:-$BUILD/obj/src}


check() { # src obj -> prints violations, exit 1 if any
python3 - "$1" "$2" <<'PY'
import os, re, subprocess, sys
src, obj = sys.argv[1], sys.argv[2]
layer = {"util": 1, "data": 2, "store": 2, "ml": 3, "track": 4, "server": 5, "app": 6, "cli": 7}
bad = []
inc = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
for folder in sorted(os.listdir(src)):
    d = os.path.join(src, folder)
    if not os.path.isdir(d):
        continue
    if folder not in layer:
        bad.append(f"src/{folder}/: a folder outside the layer list")
        continue
    for f in sorted(os.listdir(d)):
        if not f.endswith((".c", ".h", ".def")):
            continue
        text = open(os.path.join(d, f), encoding="utf-8", errors="replace").read()
        for m in inc.finditer(text):
            h = m.group(1)
            line = text.count("\n", 0, m.start()) + 1
            where = f"src/{folder}/{f}:{line}"
            if "/" not in h:
                if folder == "cli" or os.path.exists(os.path.join(d, h)) or h == "hamf.h":
                    continue
                bad.append(f"{where}: includes \"{h}\", not a header of src/{folder}/ or include/")
                continue
            top = h.split("/", 1)[0]
            if folder == "cli":
                if top != "cli":
                    bad.append(f"{where}: src/cli includes \"{h}\" (only include/ and src/cli/ headers)")
                continue
            if top not in layer:
                bad.append(f"{where}: includes \"{h}\" from an unknown folder")
            elif top != folder and layer[top] >= layer[folder]:
                bad.append(f"{where}: {folder} (layer {layer[folder]}) includes \"{h}\" of {top} (layer {layer[top]})")

# calls, from nm
defs, uses = {}, {}
if os.path.isdir(obj):
    for folder in sorted(os.listdir(obj)):
        od = os.path.join(obj, folder)
        if folder not in layer or not os.path.isdir(od):
            continue
        for f in sorted(os.listdir(od)):
            if not f.endswith(".o") or not os.path.exists(os.path.join(src, folder, f[:-2] + ".c")):
                continue  # an object left from a source that moved
            out = subprocess.run(["nm", "-P", os.path.join(od, f)], capture_output=True, text=True, check=True).stdout
            for ln in out.splitlines():
                p = ln.split()
                if len(p) < 2:
                    continue
                sym, t = p[0], p[1]
                if t == "U":
                    uses.setdefault(folder, {}).setdefault(sym, f)
                elif t.isupper():
                    defs[sym] = folder
else:
    bad.append(f"{obj}: no objects to check calls (build first)")
edges = {}
for folder, syms in uses.items():
    for sym, f in syms.items():
        to = defs.get(sym)
        if to and to != folder:
            edges.setdefault((folder, to), (sym, f))
for (a, b), (sym, f) in sorted(edges.items()):
    if layer[b] > layer[a] or (layer[b] == layer[a]):
        bad.append(f"src/{a}/{f[:-2]}.c calls {sym} of src/{b}/: {a} (layer {layer[a]}) -> {b} (layer {layer[b]})")
# loops between folders (any cycle in the folder graph)
graph = {}
for (a, b) in edges:
    graph.setdefault(a, set()).add(b)
def cycle_from(start):
    stack = [(start, [start])]
    while stack:
        n, path = stack.pop()
        for m in graph.get(n, ()):
            if m == start:
                return path + [m]
            if m not in path:
                stack.append((m, path + [m]))
    return None
seen = set()
for n in sorted(graph):
    c = cycle_from(n)
    if c and frozenset(c) not in seen:
        seen.add(frozenset(c))
        bad.append("call loop between folders: " + " -> ".join(c))
for b in bad:
    print(b)
print(f"layers: {len(bad)} problem(s)")
sys.exit(1 if bad else 0)
PY
}

check "$SRC" "$OBJ"

# Self-test (only when checking the real tree): a scratch copy with one
# wrong-way include and one CLI include of an internal header must fail.
if [ -z "${LAYERS_SRC:-}" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  cp -r "$SRC" "$tmp/src"
  printf '#include "server/http.h"\n' >> "$tmp/src/store/db.c"
  if LAYERS_SRC="$tmp/src" check "$tmp/src" "$OBJ" > "$tmp/out" 2>&1; then
    echo "FAIL: the check passed a store -> server include"; exit 1
  fi
  grep -q 'src/store/db.c.*includes "server/http.h"' "$tmp/out" || { echo "FAIL: wrong message"; cat "$tmp/out"; exit 1; }
  cp "$SRC/store/db.c" "$tmp/src/store/db.c"
  printf '#include "store/db.h"\n' >> "$tmp/src/cli/main.c"
  if check "$tmp/src" "$OBJ" > "$tmp/out" 2>&1; then
    echo "FAIL: the check passed a CLI include of an internal header"; exit 1
  fi
  grep -q 'src/cli includes "store/db.h"' "$tmp/out" || { echo "FAIL: wrong message"; cat "$tmp/out"; exit 1; }
  echo "self-test: wrong-way and CLI includes are caught"
fi
