"""serve_follow.py HAMF NAME SCORE.csv V1.csv V2.csv — see test_serve_follow.sh."""
import csv, json, re, subprocess, sys, threading, time, urllib.request

hamf, name, score_path, v1_path, v2_path = sys.argv[1:6]
want = {}
for v, p in (("1", v1_path), ("2", v2_path)):
    with open(p, newline="") as f:
        want[v] = [float(r["probability"]) for r in csv.DictReader(f)]
with open(score_path) as f:
    lines = f.read().splitlines()
header, rows = lines[0], lines[1:]

proc = subprocess.Popen([hamf, "serve", "models:/%s@champion" % name, "--port", "0"],
                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
fails = []
try:
    line = proc.stdout.readline()
    m = re.search(r"http://127\.0\.0\.1:(\d+)", line)
    assert m, "no listening line: " + line
    assert "version 1" in line, line
    url = "http://127.0.0.1:%s/invocations" % m.group(1)
    stop = False
    log = []  # (time, version, ok)
    lock = threading.Lock()

    def client(k):
        i = k
        while not stop:
            row = i % len(rows)
            i += 8
            body = (header + "\n" + rows[row] + "\n").encode()
            r = urllib.request.Request(url, data=body, headers={"Content-Type": "text/csv"})
            try:
                with urllib.request.urlopen(r, timeout=10) as resp:
                    ver = resp.headers.get("X-Hamf-Model-Version")
                    p = json.loads(resp.read())["predictions"]
                    ok = ver in want and p == [want[ver][row]]
                    if not ok:
                        with lock:
                            fails.append("row %d version %s answered %s, want %s" % (row, ver, p,
                                         want.get(ver, ["?"] * len(rows))[row]))
            except Exception as e:  # a failed request
                ver, ok = None, False
                with lock:
                    fails.append("request failed: %r" % e)
            with lock:
                log.append((time.monotonic(), ver, ok))

    threads = [threading.Thread(target=client, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    time.sleep(1.5)
    t0 = time.monotonic()
    subprocess.run([hamf, "model", "promote", name, "2"], check=True, stdout=subprocess.DEVNULL)
    t1 = time.monotonic()
    time.sleep(3.5)
    stop = True
    for t in threads:
        t.join()
    before = [e for e in log if e[0] < t0]
    first_v2 = min((e[0] for e in log if e[1] == "2"), default=None)
    n = len(log)
    print("requests: %d, failed: %d, promote took %.3f s" % (n, len(fails), t1 - t0))
    if not before or any(e[1] != "1" for e in before):
        fails.append("before the promotion every answer must be version 1")
    if first_v2 is None:
        fails.append("version 2 never answered")
    else:
        lag = first_v2 - t1
        print("version 2 answering %.3f s after the promotion returned" % lag)
        if lag > 2.0:
            fails.append("version 2 answered only after %.3f s" % lag)
        late_v1 = [e for e in log if e[0] > first_v2 + 0.5 and e[1] == "1"]
        if late_v1:
            fails.append("%d answers from version 1 after the switch" % len(late_v1))
    with urllib.request.urlopen(url.replace("/invocations", "/metrics"), timeout=10) as resp:
        text = resp.read().decode()
    if not re.search(r'hamf_serve_model_info\{model="%s",model_version="2"\} 1' % name, text):
        fails.append("/metrics does not name version 2 as in use")
    for v in ("1", "2"):
        if not re.search(r'hamf_serve_requests_total\{model="%s",model_version="%s"\} [1-9]' % (name, v), text):
            fails.append("/metrics lacks requests by version %s" % v)
finally:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
    out = proc.stdout.read()
    print(out[-1000:])
for f in fails[:20]:
    print("FAIL:", f)
sys.exit(1 if fails else 0)
