#!/usr/bin/env bash
# test_datagen.sh — `hamf datagen phishing`: the seed's 15 columns in order,
# same seed -> byte-identical file, different seed or drift -> different
# file, consistent columns, ~40 registrars, some urllength 0 rows and empty
# cells, drift moves phishing towards https and aged domains.
set -euo pipefail
"$HAMF" datagen phishing --rows 20000 --seed 5 -o a.csv
"$HAMF" datagen phishing --rows 20000 --seed 5 -o b.csv
"$HAMF" datagen phishing --rows 20000 --seed 6 -o c.csv
"$HAMF" datagen phishing --rows 20000 --seed 5 --drift 1 -o d.csv
cmp a.csv b.csv
! cmp -s a.csv c.csv
[ "$(head -1 a.csv)" = "urllength,numberofdots,hostage,hassecureconnection,has_equal,alexa_rank,has_digits,hostlength,pathlength,registrarname,hyperlinks,foreignlinks,brokenhyperlinks,trickyforms,phishing" ]
/usr/bin/python3 - <<'PY'
import pandas as pd
a = pd.read_csv("a.csv", keep_default_na=False, na_values=[""])
d = pd.read_csv("d.csv", keep_default_na=False, na_values=[""])
assert len(a) == 20000
ok = a.dropna(subset=["urllength", "pathlength", "hostlength"])
assert (ok.pathlength <= ok.urllength).all() and (ok.hostlength <= ok.urllength).all()
assert (ok.hostlength + ok.pathlength <= ok.urllength).all()
pg = a.dropna(subset=["hyperlinks"])
assert (pg.foreignlinks <= pg.hyperlinks).all() and (pg.brokenhyperlinks <= pg.hyperlinks).all()
assert a.alexa_rank.dropna().between(1, 10_000_000).all()
assert set(a.hassecureconnection.dropna()) == {"yes", "no"}
assert set(a.phishing) == {0, 1} and 0.3 < a.phishing.mean() < 0.55
assert 35 <= a.registrarname.nunique() <= 40, a.registrarname.nunique()
assert (a.urllength == 0).sum() > 0 and a.isna().sum().sum() > 0
for c in ("urllength", "hostage", "alexa_rank", "registrarname", "hyperlinks", "hassecureconnection"):
    assert a[c].isna().sum() > 0, c
# drift: phishing pages use https more and have older domains
pa, pd_ = a[a.phishing == 1], d[d.phishing == 1]
assert (pd_.hassecureconnection == "yes").mean() > (pa.hassecureconnection == "yes").mean() + 0.2
assert pd_.hostage.median() > 2 * pa.hostage.median()
print("datagen ok")
PY
# bad arguments are usage errors, and nothing is written
set +e
"$HAMF" datagen phishing --rows 10 --drift 2 -o x.csv 2>/dev/null; [ $? -eq 2 ] || exit 1
"$HAMF" datagen nosuch --rows 10 -o x.csv 2>/dev/null; [ $? -eq 2 ] || exit 1
"$HAMF" datagen phishing --rows 10 -o /nonexistent/dir/x.csv 2>err.txt; [ $? -eq 1 ] || exit 1
grep -q "nonexistent" err.txt || exit 1
[ ! -e x.csv ] || exit 1
echo ok
