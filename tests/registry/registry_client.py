"""registry_client.py URL DB_URL — MLflow's Model Registry REST API 2.0 on
`hamf server`, as an independent client (requests) sees it: the JSON shapes,
methods and status codes MLflow 2.12 serves, search filters and pages, and
for every bad input MLflow's error code and message with the store left
unchanged (every registry row over the API plus the audit_log, dumped before
and after). Then the other way round: what `hamf model versions` shows of
changes made here, and what the API shows of `hamf model promote/rollback`.
"""
import json
import subprocess
import sys

import requests

URL, DB = sys.argv[1], sys.argv[2]
HAMF = sys.argv[3] if len(sys.argv) > 3 else "hamf"
API = URL + "/api/2.0/mlflow/"
S = requests.Session()
checks = 0


def call(method, path, body=None, status=200):
    global checks
    if method == "GET":
        r = S.get(API + path, params=body)
    else:
        r = S.request(method, API + path, json=body if body is not None else {})
    assert r.status_code == status, (method, path, body, r.status_code, r.text)
    assert r.headers["Content-Type"].startswith("application/json"), r.headers
    checks += 1
    return r.json()


def dump():
    """Every registry row visible over the API, and hamf's audit log."""
    out = {"models": [], "versions": []}
    tok = None
    while True:
        j = call("GET", "registered-models/search", {"max_results": 1000, **({"page_token": tok} if tok else {})})
        out["models"] += j.get("registered_models", [])
        tok = j.get("next_page_token")
        if not tok:
            break
    for m in out["models"]:
        out["versions"] += call("GET", "model-versions/search", {"filter": f"name = '{m['name']}'"}).get(
            "model_versions", [])
        for v in call("GET", "model-versions/search", {"filter": f"name = '{m['name']}'"}).get("model_versions", []):
            out["versions"].append(call("GET", "model-versions/get", {"name": m["name"], "version": v["version"]}))
    audit = subprocess.run([HAMF, "audit", "list", "--json", "--db", DB], check=True, capture_output=True, text=True)
    out["audit"] = len(json.loads(audit.stdout))
    return out


def bad(method, path, body, status, code, message):
    before = dump()
    j = call(method, path, body, status)
    assert j["error_code"] == code, (path, body, j)
    assert j["message"] == message or j["message"].startswith(message), (path, body, j["message"], message)
    after = dump()
    assert before == after, ("store changed by a failed call", path, body)


# ---- registered models ----
rm = call("POST", "registered-models/create",
          {"name": "phish", "tags": [{"key": "team", "value": "sec"}], "description": "first"})["registered_model"]
assert rm["name"] == "phish" and rm["tags"] == [{"key": "team", "value": "sec"}] and rm["description"] == "first", rm
assert isinstance(rm["creation_timestamp"], int) and rm["last_updated_timestamp"] == rm["creation_timestamp"], rm
assert "latest_versions" not in rm and "aliases" not in rm, rm
assert call("GET", "registered-models/get", {"name": "phish"})["registered_model"] == rm

# versions
v1 = call("POST", "model-versions/create", {"name": "phish", "source": "runs:/r1/model", "run_id": "r1",
                                            "tags": [{"key": "k", "value": "v"}]})["model_version"]
assert v1["version"] == "1" and v1["current_stage"] == "None" and v1["status"] == "READY", v1
assert v1["source"] == "runs:/r1/model" and v1["run_id"] == "r1" and v1["tags"] == [{"key": "k", "value": "v"}], v1
assert v1["description"] == "" and v1["run_link"] == "" and "aliases" not in v1, v1
v2 = call("POST", "model-versions/create", {"name": "phish", "source": "runs:/r2/model", "run_id": "r2"})["model_version"]
assert v2["version"] == "2", v2
got = call("GET", "registered-models/get", {"name": "phish"})["registered_model"]
assert [v["version"] for v in got["latest_versions"]] == ["2"], got
assert got["last_updated_timestamp"] >= v2["creation_timestamp"], got

# stages and latest versions
t = call("POST", "model-versions/transition-stage",
         {"name": "phish", "version": "1", "stage": "production", "archive_existing_versions": False})["model_version"]
assert t["current_stage"] == "Production", t
lv = call("POST", "registered-models/get-latest-versions", {"name": "phish", "stages": ["Production"]})
assert [v["version"] for v in lv["model_versions"]] == ["1"], lv
lv = call("GET", "registered-models/get-latest-versions", {"name": "phish"})
assert sorted((v["current_stage"], v["version"]) for v in lv["model_versions"]) == [("None", "2"), ("Production", "1")]

# aliases (MLflow's API) are hamf's aliases
call("POST", "registered-models/alias", {"name": "phish", "alias": "prod-a", "version": "2"})
mv = call("GET", "registered-models/alias", {"name": "phish", "alias": "prod-a"})["model_version"]
assert mv["version"] == "2" and mv["aliases"] == ["prod-a"], mv
got = call("GET", "registered-models/get", {"name": "phish"})["registered_model"]
assert got["aliases"] == [{"alias": "prod-a", "version": "2"}], got
call("DELETE", "registered-models/alias", {"name": "phish", "alias": "prod-a"})
assert "aliases" not in call("GET", "registered-models/get", {"name": "phish"})["registered_model"]

# tags, update, rename
call("POST", "registered-models/set-tag", {"name": "phish", "key": "owner", "value": "me"})
call("DELETE", "registered-models/delete-tag", {"name": "phish", "key": "team"})
call("POST", "model-versions/set-tag", {"name": "phish", "version": "2", "key": "q", "value": ""})
call("DELETE", "model-versions/delete-tag", {"name": "phish", "version": "1", "key": "k"})
u = call("PATCH", "registered-models/update", {"name": "phish", "description": "second"})["registered_model"]
assert u["description"] == "second" and u["tags"] == [{"key": "owner", "value": "me"}], u
u = call("PATCH", "model-versions/update", {"name": "phish", "version": "2", "description": "d2"})["model_version"]
assert u["description"] == "d2" and u["tags"] == [{"key": "q", "value": ""}], u
assert call("GET", "model-versions/get-download-uri", {"name": "phish", "version": "1"}) == {
    "artifact_uri": "runs:/r1/model"}
r = call("POST", "registered-models/rename", {"name": "phish", "new_name": "phish2"})["registered_model"]
assert r["name"] == "phish2", r
assert call("GET", "model-versions/get", {"name": "phish2", "version": "2"})["model_version"]["name"] == "phish2"
call("GET", "registered-models/get", {"name": "phish"}, 404)

# search: filters, order, pages
for i in range(12):
    call("POST", "registered-models/create", {"name": f"Search{i:02}", "tags": [{"key": "even", "value": str(i % 2 == 0)}]})
    call("POST", "model-versions/create", {"name": f"Search{i:02}", "source": f"runs:/s{i}/model", "run_id": f"s{i}"})
names, tok = [], None
while True:
    j = call("GET", "registered-models/search",
             {"filter": "name LIKE 'Search%'", "max_results": 5, **({"page_token": tok} if tok else {})})
    names += [m["name"] for m in j["registered_models"]]
    tok = j.get("next_page_token")
    if not tok:
        break
assert names == [f"Search{i:02}" for i in range(12)], names
assert [m["name"] for m in call("GET", "registered-models/search", {"filter": "name ILIKE 'search0%' AND tags.even = 'True'"})[
    "registered_models"]] == ["Search00", "Search02", "Search04", "Search06", "Search08"]
assert call("GET", "registered-models/search", {"filter": "name LIKE 'search%'"}) == {}
j = call("GET", "registered-models/search", {"filter": "name LIKE 'Search%'", "order_by": ["name DESC"], "max_results": 2})
assert [m["name"] for m in j["registered_models"]] == ["Search11", "Search10"] and j["next_page_token"], j
j = call("GET", "model-versions/search", {"filter": "run_id IN ('s1', 's3') AND version_number >= 1"})
assert sorted(v["name"] for v in j["model_versions"]) == ["Search01", "Search03"], j
j = call("GET", "model-versions/search", {"filter": "source_path = 'runs:/s5/model'"})
assert [v["name"] for v in j["model_versions"]] == ["Search05"], j

# delete
call("DELETE", "model-versions/delete", {"name": "Search11", "version": "1"})
call("GET", "model-versions/get", {"name": "Search11", "version": "1"}, 404)
v = call("POST", "model-versions/create", {"name": "Search11", "source": "runs:/x/model"})["model_version"]
assert v["version"] == "2", v  # numbers are never reused
call("DELETE", "registered-models/delete", {"name": "Search10"})
call("GET", "registered-models/get", {"name": "Search10"}, 404)

# ---- bad inputs: MLflow's code and message, store unchanged ----
bad("GET", "registered-models/get", {"name": "nope"}, 404, "RESOURCE_DOES_NOT_EXIST",
    "Registered Model with name=nope not found")
bad("POST", "registered-models/create", {"name": "phish2"}, 400, "RESOURCE_ALREADY_EXISTS",
    "Registered Model (name=phish2) already exists.")
bad("POST", "registered-models/create", {}, 400, "INVALID_PARAMETER_VALUE",
    "Missing value for required parameter 'name'.")
bad("POST", "registered-models/rename", {"name": "phish2", "new_name": "Search00"}, 400, "RESOURCE_ALREADY_EXISTS",
    "Registered Model (name=Search00) already exists.")
bad("POST", "registered-models/alias", {"name": "phish2", "alias": "latest", "version": "1"}, 400,
    "INVALID_PARAMETER_VALUE", "'latest' alias name (case insensitive) is reserved.")
bad("POST", "registered-models/alias", {"name": "phish2", "alias": "v3", "version": "1"}, 400,
    "INVALID_PARAMETER_VALUE", "Version alias name 'v3' is reserved.")
bad("POST", "registered-models/alias", {"name": "phish2", "alias": "a b", "version": "1"}, 400,
    "INVALID_PARAMETER_VALUE", "Invalid alias name: 'a b'.")
bad("POST", "registered-models/alias", {"name": "phish2", "alias": "ok", "version": "9"}, 404,
    "RESOURCE_DOES_NOT_EXIST", "Model Version (name=phish2, version=9) not found")
bad("GET", "registered-models/alias", {"name": "phish2", "alias": "missing"}, 400, "INVALID_PARAMETER_VALUE",
    "Registered model alias missing not found.")
bad("GET", "model-versions/get", {"name": "phish2", "version": "x1"}, 400, "INVALID_PARAMETER_VALUE",
    "Model version must be an integer, got 'x1'")
bad("GET", "model-versions/get", {"name": "phish2", "version": "7"}, 404, "RESOURCE_DOES_NOT_EXIST",
    "Model Version (name=phish2, version=7) not found")
bad("POST", "model-versions/create", {"name": "nope", "source": "runs:/a/model"}, 404, "RESOURCE_DOES_NOT_EXIST",
    "Registered Model with name=nope not found")
bad("POST", "model-versions/create", {"name": "phish2", "source": "/etc/passwd"}, 400, "INVALID_PARAMETER_VALUE",
    "Invalid model version source: '/etc/passwd'.")
bad("POST", "model-versions/transition-stage", {"name": "phish2", "version": "1", "stage": "prod"}, 400,
    "INVALID_PARAMETER_VALUE", "Invalid Model Version stage: prod. Value must be one of None, Staging, Production, Archived.")
bad("GET", "registered-models/search", {"filter": "name > 'a'"}, 400, "INVALID_PARAMETER_VALUE",
    "Invalid comparator for attribute: >")
bad("GET", "registered-models/search", {"filter": "owner = 'a'"}, 400, "INVALID_PARAMETER_VALUE",
    "Invalid attribute key 'owner' specified.")
bad("GET", "registered-models/search", {"filter": "name = 'a' OR name = 'b'"}, 400, "INVALID_PARAMETER_VALUE",
    "Invalid clause(s) in filter string")
bad("GET", "registered-models/search", {"filter": "params.x = 'a'"}, 400, "INVALID_PARAMETER_VALUE",
    "Invalid entity type 'params'.")
bad("GET", "model-versions/search", {"filter": "version_number LIKE '1'"}, 400, "INVALID_PARAMETER_VALUE",
    "Invalid comparator for attribute version_number: LIKE")
bad("GET", "registered-models/search", {"max_results": 5000}, 400, "INVALID_PARAMETER_VALUE",
    "Invalid value 5000 for parameter 'max_results' supplied.")
bad("GET", "registered-models/search", {"page_token": "@@"}, 400, "INVALID_PARAMETER_VALUE",
    "Invalid page token")
exp = S.post(API + "experiments/create", json={"name": "src-check"}).json()["experiment_id"]
run = S.post(API + "runs/create", json={"experiment_id": exp}).json()["run"]["info"]["run_id"]
bad("POST", "model-versions/create", {"name": "phish2", "source": "/tmp", "run_id": run}, 400,
    "INVALID_PARAMETER_VALUE", "Invalid model version source: '/tmp'. To use a local path as a model version source")
for src in ("mlflow-artifacts:/models/../../etc", "http://h/api/2.0/mlflow-artifacts/artifacts/%2E%2E/x",
            "mlflow-artifacts:/models/."):
    bad("POST", "model-versions/create", {"name": "phish2", "source": src, "run_id": run}, 400,
        "INVALID_PARAMETER_VALUE", f"Invalid model version source: '{src}'. If supplying a source as an http")
bad("POST", "model-versions/create", {"name": "phish2", "source": "file://10.1.2.3/path", "run_id": run}, 500,
    "INTERNAL_ERROR", "file://10.1.2.3/path is not a valid remote uri.")
v = call("POST", "model-versions/create", {"name": "phish2", "source": "mlflow-artifacts:/models//", "run_id": run})
assert v["model_version"]["source"] == "mlflow-artifacts:/models//", v
call("DELETE", "model-versions/delete", {"name": "phish2", "version": v["model_version"]["version"]})
bad("DELETE", "registered-models/delete", {"name": "nope"}, 404, "RESOURCE_DOES_NOT_EXIST",
    "Registered Model with name=nope not found")

# ---- the UI's download route: a version's files, a runs:/ source resolved to its run ----
info = S.get(API + "runs/get", params={"run_id": run}).json()["run"]["info"]
assert info["artifact_uri"].startswith("mlflow-artifacts:/"), info
rel = info["artifact_uri"][len("mlflow-artifacts:/"):].lstrip("/")
r = S.put(f"{URL}/api/2.0/mlflow-artifacts/artifacts/{rel}/model/notes.txt", data=b"version bytes\n")
assert r.status_code == 200, r.text
mv = call("POST", "model-versions/create", {"name": "phish2", "source": f"runs:/{run}/model", "run_id": run})
r = S.get(URL + "/model-versions/get-artifact",
          params={"name": "phish2", "version": mv["model_version"]["version"], "path": "notes.txt"})
assert r.status_code == 200 and r.content == b"version bytes\n", (r.status_code, r.text)
r = S.get(URL + "/model-versions/get-artifact", params={"name": "phish2", "version": "99", "path": "notes.txt"})
assert r.status_code == 404 and r.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST", r.text
call("DELETE", "model-versions/delete", {"name": "phish2", "version": mv["model_version"]["version"]})

# ---- one registry, seen from hamf's CLI too ----
call("POST", "registered-models/alias", {"name": "phish2", "alias": "champion", "version": "1"})
out = subprocess.run([HAMF, "model", "versions", "phish2", "--db", DB, "--json"], check=True, capture_output=True,
                     text=True).stdout
vs = {v["version"]: v for v in json.loads(out)}
assert vs[1]["aliases"] == "champion" and vs[2]["aliases"] == "", vs
subprocess.run([HAMF, "model", "promote", "phish2", "2", "--db", DB], check=True, capture_output=True)
assert call("GET", "registered-models/alias", {"name": "phish2", "alias": "champion"})["model_version"]["version"] == "2"
subprocess.run([HAMF, "model", "rollback", "phish2", "--db", DB], check=True, capture_output=True)
assert call("GET", "registered-models/alias", {"name": "phish2", "alias": "champion"})["model_version"]["version"] == "1"
audit = json.loads(subprocess.run([HAMF, "audit", "list", "--json", "--table", "model_aliases", "--db", DB],
                                  check=True, capture_output=True, text=True).stdout)
assert len(audit) >= 5, audit  # set/delete prod-a, champion via API, promote, rollback

# the UI's views
j = requests.get(URL + "/api/hamf/v1/model", params={"name": "phish2"}).json()
assert [p["action"] for p in j["promotions"]][:3] == ["rollback", "promote", "promote"], j["promotions"]
assert j["versions"][0]["version"] == "2" and "origin" in j["versions"][0], j["versions"][0]
j = requests.get(URL + "/api/hamf/v1/run-models", params={"run_id": "s3"}).json()
assert j == {"model_versions": [{"name": "Search03", "version": "1"}]}, j
print(f"registry REST: {checks} checks OK")
