#!/usr/bin/env bash
# test_immutable.sh — a registered version is immutable (issue 13): training
# twice to the same `-o` file leaves version 1 scoring exactly as before
# (it is loaded from the registry's own sha256-named copy, not the user's
# file); models:/ and runs:/ URIs work wherever hamf takes a model; a
# changed or missing stored copy makes loading version 1 fail with the
# version and digest named, and the user's file is never needed.
set -euo pipefail
export HAMF_DB="$T/reg.db" HAMF_ARTIFACTS_DIR="$T/mlartifacts"
source "$HAMF_ROOT/tests/registry/immutable_body.sh"
