# tests/store/registry_suite.sh — the registry CLI suite, sourced by
# test_registry_sqlite.sh and test_registry_pg.sh, which first define:
#   BACKEND      sqlite | pg
#   newdb NAME   point $DB at a fresh, empty store
#   dump         print the whole store (schema, rows, id counters)
# Every case runs against the backend's real store through the hamf binary.
set -euo pipefail

PY=/usr/bin/python3
die() { echo "FAIL: $*" >&2; exit 1; }
h() { : >"$T/dirty"; "$HAMF" "$@" --db "$DB"; }

# fails RC 'word1|word2' cmd... — the command must exit RC (or any non-zero
# if RC is -), print nothing on stdout and exactly one line on stderr
# containing every word, and leave the store byte-for-byte unchanged.
# The dump after one case is the dump before the next, unless anything
# ran through h() in between (it marks $T/dirty) or $DB changed.
LAST_DUMP= LAST_DB=
fails() {
  local want=$1 words=$2; shift 2
  local before after rc
  if [ -n "$LAST_DUMP" ] && [ "$LAST_DB" = "$DB" ] && [ ! -e "$T/dirty" ]; then
    before=$LAST_DUMP
  else
    before=$(dump)
  fi
  set +e; "$@" >"$T/out" 2>"$T/err"; rc=$?; set -e
  after=$(dump)
  rm -f "$T/dirty"
  LAST_DUMP=$after LAST_DB=$DB
  echo "  [$rc] $*: $(cat "$T/err")"
  [ "$rc" -ne 0 ] || die "expected failure: $*"
  [ "$want" = - ] || [ "$rc" -eq "$want" ] || die "exit $rc, want $want: $*"
  [ ! -s "$T/out" ] || die "stdout not empty: $(cat "$T/out")"
  [ "$(wc -l <"$T/err")" -eq 1 ] || die "error is not one line: $(cat "$T/err")"
  local w ws
  IFS='|' read -ra ws <<<"$words"
  for w in "${ws[@]}"; do grep -qF -- "$w" "$T/err" || die "error lacks '$w': $(cat "$T/err")"; done
  [ "$before" == "$after" ] || { diff <(echo "$before") <(echo "$after") | head -20 || true; die "store changed by: $*"; }
}

# The seed's Step 1 (hamf-workflow.md), verbatim through the CLI.
seed_step1() {
  local features=(urllength numberofdots hostage hassecureconnection has_equal
    alexa_rank has_digits hostlength pathlength registrarname
    hyperlinks foreignlinks brokenhyperlinks trickyforms phishing)
  local f type
  for f in "${features[@]}"; do
    case " urllength numberofdots alexa_rank hostlength pathlength " in
      *" $f "*) type=numerical ;; *) type=categorical ;;
    esac
    h feature add "$f" --type "$type" >/dev/null
  done
  [ "$(h model add PhishingDetectionModel --algorithm RandomForest --version v1.0)" = 1 ] || die "model id != 1"
  h model map 1 --feature-ids 1-14 --accuracy 99.83 >/dev/null
  # The seed logs its Gradient Boosting result against model id 2.
  [ "$(h model add PhishingDetectionModel --algorithm GradientBoosting --version v1.1)" = 2 ] || die "model id != 2"
  [ "$(h result add --model-id 2 --accuracy 99.83 --f1 0.998 --precision 0.999 --recall 0.997 --status completed)" = 1 ] \
    || die "result id != 1"
}

case_seed_step1() {
  newdb seed
  seed_step1
  h feature list --json >"$T/f.json"
  h model list --json >"$T/m.json"
  h model mappings --json >"$T/map.json"
  h result list --json >"$T/r.json"
  h audit list --json >"$T/a.json"
  $PY - "$T" <<'PY'
import json, sys, os
d = sys.argv[1]
load = lambda n: json.load(open(os.path.join(d, n)))
f, m, mp, r, a = load("f.json"), load("m.json"), load("map.json"), load("r.json"), load("a.json")
num = {"urllength", "numberofdots", "alexa_rank", "hostlength", "pathlength"}
assert len(f) == 15, len(f)
for i, row in enumerate(f):
    assert list(row) == ["feature_id", "feature_name", "feature_type", "feature_status", "last_updated"], list(row)
    assert row["feature_id"] == i + 1
    assert row["feature_type"] == ("numerical" if row["feature_name"] in num else "categorical"), row
    assert row["feature_status"] == "active"
    assert len(row["last_updated"]) == 24 and row["last_updated"].endswith("Z")
assert [x["feature_name"] for x in f][:3] == ["urllength", "numberofdots", "hostage"]
assert list(m[0]) == ["model_id", "model_name", "model_version", "algorithm", "creation_date", "description"]
assert [(x["model_id"], x["model_name"], x["algorithm"], x["model_version"], x["description"]) for x in m] == [
    (1, "PhishingDetectionModel", "RandomForest", "v1.0", None),
    (2, "PhishingDetectionModel", "GradientBoosting", "v1.1", None)], m
assert list(mp[0]) == ["map_id", "model_id", "feature_id", "accuracy", "last_used"]
assert [(x["model_id"], x["feature_id"], x["accuracy"]) for x in mp] == [(1, i, 99.83) for i in range(1, 15)], mp
assert len(r) == 1
assert list(r[0]) == ["result_id", "model_id", "accuracy", "f1_score", "precision", "recall",
                      "training_status", "timestamp", "run_id"]
x = r[0]
assert (x["model_id"], x["accuracy"], x["f1_score"], x["precision"], x["recall"], x["training_status"], x["run_id"]) \
    == (2, 99.83, 0.998, 0.999, 0.997, "completed", None), x
assert list(a[0]) == ["log_id", "table_name", "operation_type", "old_data", "new_data", "operation_timestamp"]
tables = [e["table_name"] for e in a]
assert tables.count("features_master") == 15 and tables.count("models_master") == 2
assert tables.count("features_models_map") == 14 and tables.count("training_results") == 1, tables
assert all(e["operation_type"] == "INSERT" and e["old_data"] is None for e in a)
last = json.loads(a[-1]["new_data"])
assert last == {"result_id": 1, "model_id": 2, "accuracy": 99.83, "f1_score": 0.998, "precision": 0.999,
                "recall": 0.997, "training_status": "completed", "timestamp": x["timestamp"], "run_id": None}, last
print("seed step 1 ok")
PY
  # Filters.
  [ "$(h result list --model-id 1 --json)" = "[]" ] || die "result list --model-id 1 not empty"
  [ "$(h audit list --table models_master --json | $PY -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 2 ] \
    || die "audit --table filter"
}

case_human_tables() {
  newdb tables
  seed_step1
  local cmd
  for cmd in "feature list" "model list" "model mappings" "result list" "audit list"; do
    # shellcheck disable=SC2086
    h $cmd >"$T/tab.txt"
    $PY - "$T/tab.txt" "$cmd" <<'PY'
import sys
lines = open(sys.argv[1]).read().splitlines()
head = lines[0]
cols = head.split()
starts = [head.index(" " + c) + 1 if i else 0 for i, c in enumerate(cols)]
ends = starts[1:] + [None]
assert len(lines) > 1, "no rows"
for ln in lines[1:]:
    # every column boundary of the header is a boundary in each row:
    # two spaces (or more) before each column start
    for s in starts[1:]:
        assert ln[s - 2:s] == "  ", (sys.argv[2], s, ln)
print(sys.argv[2], "aligned,", len(lines) - 1, "rows")
PY
  done
  h model list | grep -q "^model_id  model_name  " || die "model list header"
}

case_bad_input() {
  newdb bad
  seed_step1
  fails 1 "urllength|already exists" h feature add urllength --type numerical
  fails 1 "feature_type|ordinal" h feature add newfeature --type ordinal
  fails 1 "v1.0|already exists" h model add PhishingDetectionModel --algorithm GradientBoosting --version v1.0
  fails 1 "accuracy|100.01|[0,100]" h result add --model-id 1 --accuracy 100.01 --f1 0.9 --precision 0.9 --recall 0.9
  fails 1 "accuracy|-0.5" h result add --model-id 1 --accuracy -0.5 --f1 0.9 --precision 0.9 --recall 0.9
  fails 1 "f1_score|1.2|[0,1]" h result add --model-id 1 --accuracy 99 --f1 1.2 --precision 0.9 --recall 0.9
  fails 1 "precision|-0.1" h result add --model-id 1 --accuracy 99 --f1 0.9 --precision -0.1 --recall 0.9
  fails 1 "recall|1.0001" h result add --model-id 1 --accuracy 99 --f1 0.9 --precision 0.9 --recall 1.0001
  fails 1 "accuracy|101" h model map 1 --feature-ids 15 --accuracy 101
  fails 1 "accuracy|NaN" h result add --model-id 1 --accuracy nan --f1 0.9 --precision 0.9 --recall 0.9
  fails 1 "f1_score|NaN" h result add --model-id 1 --accuracy 99 --f1 NaN --precision 0.9 --recall 0.9
  fails 1 "precision|NaN" h result add --model-id 1 --accuracy 99 --f1 0.9 --precision -nan --recall 0.9
  fails 1 "recall|NaN" h result add --model-id 1 --accuracy 99 --f1 0.9 --precision 0.9 --recall NAN
  fails 1 "accuracy|NaN" h model map 1 --feature-ids 15 --accuracy nan
  fails 1 "recall|Infinity" h result add --model-id 1 --accuracy 99 --f1 0.9 --precision 0.9 --recall inf
  fails 1 "model_id 99|does not exist" h model map 99 --feature-ids 1-3
  fails 1 "model_id 99|does not exist" h model map 99 --features urllength
  fails 1 "feature_id 77|does not exist" h model map 2 --feature-ids 1-3,77
  fails 1 "nosuch|does not exist" h model map 2 --features urllength,nosuch
  fails 1 "model_id 3|does not exist" h result add --model-id 3 --accuracy 99 --f1 0.9 --precision 0.9 --recall 0.9
  fails 1 "feature_id 2|twice" h model map 2 --feature-ids 1-3,2
  # Number and id syntax is checked before the store is touched (usage: 2).
  fails 2 "--accuracy|abc" h result add --model-id 1 --accuracy abc --f1 0.9 --precision 0.9 --recall 0.9
  fails 2 "--model-id|x1" h result add --model-id x1 --accuracy 9 --f1 0.9 --precision 0.9 --recall 0.9
  local spec
  for spec in "1-" "-3" "3-1" "1,,2" "1," "a" "0" "1-0x5" " 1" "1 ,2" "+1" "1-2-3"; do
    fails 2 "--feature-ids" h model map 1 --feature-ids "$spec"
  done
  fails 2 "MODEL_ID|abc" h model map abc --feature-ids 1
  fails 2 "--features|empty" h model map 1 --features urllength,,phishing
  # Malformed store URLs name the URL.
  local url
  for url in "foo://x" "sqlite://relative/path" "sqlite:" "postgresql://[::1/x" "postgres://h:70000/db"; do
    fails 1 "malformed URL '$url'" "$HAMF" feature list --db "$url"
  done
}

case_remap_updates() {
  newdb remap
  seed_step1
  h model map 1 --features urllength,phishing --accuracy 98.5 >/dev/null
  h model mappings 1 --json | $PY -c '
import json, sys
rows = json.load(sys.stdin)
acc = {r["feature_id"]: r["accuracy"] for r in rows}
assert len(rows) == 15 and acc[1] == 98.5 and acc[15] == 98.5 and acc[2] == 99.83, rows'
  h model map 2 --feature-ids 1,3-4 >/dev/null
  [ "$(h model mappings 2 --json | $PY -c 'import json,sys; print([r["accuracy"] for r in json.load(sys.stdin)])')" = "[None, None, None]" ] \
    || die "map without --accuracy stores null"
  local n
  n=$(h audit list --table features_models_map --json | $PY -c '
import json, sys
rows = json.load(sys.stdin)
print(sum(1 for r in rows if r["operation_type"] == "UPDATE" and json.loads(r["old_data"])["accuracy"] == 99.83))')
  [ "$n" = 1 ] || die "remap not audited as UPDATE ($n)"
}

case_run_id_and_status() {
  newdb runid
  seed_step1
  [ "$(h result add --model-id 1 --accuracy 97.25 --f1 0.97 --precision 0.96 --recall 0.98 --status failed --run-id 0123456789abcdef0123456789abcdef)" = 2 ] || die "result id"
  h result list --model-id 1 --json | $PY -c '
import json, sys
r = json.load(sys.stdin)
assert len(r) == 1 and r[0]["run_id"] == "0123456789abcdef0123456789abcdef" and r[0]["training_status"] == "failed", r
assert r[0]["accuracy"] == 97.25'
}

# Writers racing from the very first open (schema creation) on: nothing
# lost, nothing doubled, every row audited.
case_concurrent_writers() {
  newdb conc
  local k pids=()
  for k in 1 2 3; do
    ( for i in $(seq 1 15); do h feature add "w${k}_$i" --type numerical >/dev/null || exit 1; done ) &
    pids+=($!)
  done
  for k in "${pids[@]}"; do wait "$k" || die "a concurrent writer failed"; done
  h feature list --json | $PY -c '
import json, sys
rows = json.load(sys.stdin)
assert len(rows) == 45, len(rows)
assert sorted(r["feature_id"] for r in rows) == list(range(1, 46))
assert len({r["feature_name"] for r in rows}) == 45'
  [ "$(h audit list --json | $PY -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 45 ] || die "audit rows"
}

case_help() {
  local c
  for c in "feature" "feature add" "feature list" "model" "model add" "model list" "model map" \
           "model mappings" "result" "result add" "result list" "audit" "audit list"; do
    # shellcheck disable=SC2086
    "$HAMF" $c --help | grep -q "^Usage: hamf" || die "$c --help"
  done
  set +e; "$HAMF" model frobnicate >/dev/null 2>&1; rc=$?; set -e
  [ "$rc" -eq 2 ] || die "unknown subcommand exit $rc"
  set +e; "$HAMF" feature add x >/dev/null 2>&1; rc=$?; set -e
  [ "$rc" -eq 2 ] || die "missing --type exit $rc"
}

run_suite() {
  local c
  for c in case_seed_step1 case_human_tables case_bad_input case_remap_updates case_run_id_and_status \
           case_concurrent_writers case_help; do
    echo "== $BACKEND: $c (at ${SECONDS}s)"
    "$c"
  done
  echo "== $BACKEND: all cases passed"
}
