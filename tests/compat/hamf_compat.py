"""pytest plugin for tests/compat/run_mlflow_tests.sh: runs MLflow's own
server tests unmodified, replacing only the functions/fixture that start a
server, so that every test gets a fresh server:

  HAMF_COMPAT_SERVER=hamf    `hamf server --port 0` on a fresh temp store
                             (SQLite file + artifacts dir under the test's
                             tmp_path); HAMF=path to the binary
  HAMF_COMPAT_SERVER=mlflow  MLflow's own server from the fetched source

Replaced:
  tests.tracking.test_rest_tracking._init_server   (used by the mlflow_client
  tests.tracking.test_model_registry._init_server   and client fixtures)
  tests.tracking.test_mlflow_artifacts.artifacts_server (module-scoped in
      MLflow; here function-scoped: a fresh server per test)

With hamf, the backend_uri MLflow's fixtures compute ("file" and
"sqlalchemy" params) is not used: hamf has one store format, so both params
run against a fresh hamf SQLite store. The artifacts fixture's
backend_store_uri is the server's URL (hamf's store is reached through its
REST API only).
"""
import contextlib
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import namedtuple

import pytest

SERVER = os.environ.get("HAMF_COMPAT_SERVER", "hamf")
HAMF = os.environ.get("HAMF", "hamf")
LOGDIR = os.environ.get("HAMF_COMPAT_LOGDIR")

ArtifactsServer = namedtuple(
    "ArtifactsServer",
    ["backend_store_uri", "default_artifact_root", "artifacts_destination", "url", "process"],
)


def _log_file(tag):
    if not LOGDIR:
        return subprocess.DEVNULL
    os.makedirs(LOGDIR, exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", os.environ.get("PYTEST_CURRENT_TEST", tag))[:150]
    return open(os.path.join(LOGDIR, f"{name}.{tag}.log"), "ab")


@contextlib.contextmanager
def _hamf_server(workdir, artifacts_dir, default_artifact_root=None, extra_env=None):
    """Start `hamf server --port 0` on a fresh store in workdir; yield its URL."""
    os.makedirs(workdir, exist_ok=True)
    os.makedirs(artifacts_dir, exist_ok=True)
    log_path = os.path.join(workdir, "hamf-server.log")
    out = open(log_path, "wb")
    cmd = [HAMF, "server", "--port", "0", "--db", os.path.join(workdir, "hamf.db"),
           "--artifacts-dir", artifacts_dir, "--threads", "4"]
    if default_artifact_root:
        cmd += ["--default-artifact-root", default_artifact_root]
    proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=os.getcwd(),
                            env={**os.environ, **(extra_env or {})})
    url = None
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            with open(log_path, "rb") as f:
                m = re.search(rb"listening on (http://127\.0\.0\.1:\d+)", f.read())
            if m:
                url = m.group(1).decode()
                break
            if proc.poll() is not None:
                break
            time.sleep(0.02)
        if url is None:
            with open(log_path, "rb") as f:
                raise RuntimeError("hamf server did not start:\n" + f.read().decode(errors="replace"))
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        out.close()
        if LOGDIR:
            with open(log_path, "rb") as src, _log_file("hamf") as dst:
                dst.write(src.read())


@contextlib.contextmanager
def _init_server_hamf(backend_uri, root_artifact_uri, extra_env=None, app=None):
    import mlflow

    mlflow.set_tracking_uri(None)
    # as MLflow's fixture configures its server: the artifact root the
    # test gives is the default artifact root (clients write there
    # directly); proxied uploads go to a separate directory
    workdir = tempfile.mkdtemp(prefix="hamf-compat-")
    with _hamf_server(workdir, os.path.join(workdir, "mlartifacts"), root_artifact_uri,
                      extra_env) as (url, _):
        yield url


def _mlflow_artifacts_server(tmpdir):
    from tests.helper_functions import LOCALHOST, get_safe_port
    from tests.tracking.integration_test_utils import _await_server_up_or_die

    port = get_safe_port()
    backend_store_uri = f'sqlite:///{os.path.join(tmpdir, "mlruns.db")}'
    artifacts_destination = os.path.join(tmpdir, "mlartifacts")
    url = f"http://{LOCALHOST}:{port}"
    default_artifact_root = f"{url}/api/2.0/mlflow-artifacts/artifacts"
    # the same command MLflow's fixture runs (`mlflow server ...`), through
    # this interpreter since no `mlflow` script is installed
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--host", LOCALHOST, "--port", str(port),
         "--backend-store-uri", backend_store_uri, "--default-artifact-root",
         default_artifact_root, "--artifacts-destination", artifacts_destination,
         "--gunicorn-opts", "--log-level debug"],
        start_new_session=True,
    )
    _await_server_up_or_die(port)
    return ArtifactsServer(backend_store_uri, default_artifact_root, artifacts_destination, url,
                           proc)


def _artifacts_server():
    with tempfile.TemporaryDirectory() as tmpdir:
        if SERVER == "hamf":
            dest = os.path.join(tmpdir, "mlartifacts")
            with _hamf_server(os.path.join(tmpdir, "hamf"), dest) as (url, proc):
                yield ArtifactsServer(url, f"{url}/api/2.0/mlflow-artifacts/artifacts", dest,
                                      url, proc)
        else:
            srv = _mlflow_artifacts_server(tmpdir)
            try:
                yield srv
            finally:
                # gunicorn master and workers: the session we started
                os.killpg(srv.process.pid, 15)
                srv.process.wait()


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    # Patch a test module right after it is imported and before pytest reads
    # its fixtures.
    if isinstance(collector, pytest.Module):
        name = collector.path.name
        try:
            mod = collector.obj
        except Exception:
            mod = None
        if mod is not None:
            if name in ("test_rest_tracking.py", "test_model_registry.py") and SERVER == "hamf":
                mod._init_server = _init_server_hamf
            if name == "test_mlflow_artifacts.py":
                mod.artifacts_server = pytest.fixture(name="artifacts_server")(_artifacts_server)
    yield
