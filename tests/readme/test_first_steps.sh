#!/usr/bin/env bash
# The README's "first steps", literally, after `make install` into a temp
# prefix: the installed binary on PATH, the commands of the ```sh first-steps
# block run in order in an empty folder (only the server's port is swapped
# for a free one). Then the installed header, library and hamf.pc build a
# program that links libhamf.
set -eu
prefix="$T/prefix"
make -s -C "$HAMF_ROOT" install BUILD="$(basename "$HAMF_BUILD")" PREFIX="$prefix" >install.log 2>&1 \
  || { cat install.log; exit 1; }
for f in bin/hamf lib/libhamf.a include/hamf.h lib/pkgconfig/hamf.pc share/hamf/deploy/prometheus/prometheus.yml; do
  [ -e "$prefix/$f" ] || { echo "FAIL: make install did not install $f"; exit 1; }
done
awk '/^```sh first-steps/{f=1;next} /^```/{f=0} f' "$HAMF_ROOT/README.md" > steps.sh
[ "$(grep -c '^hamf ' steps.sh)" -ge 10 ] || { echo "FAIL: no first-steps block in README.md"; exit 1; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
sed -i "s/127.0.0.1:5000/127.0.0.1:$port/g; s/--port 5000/--port $port/g" steps.sh
mkdir work
(cd work && PATH="$prefix/bin:/usr/bin:/bin" timeout 300 bash -e ../steps.sh) > steps.out 2>&1 \
  || { echo "FAIL: the first steps stopped"; tail -30 steps.out; exit 1; }
grep -q '^mlflow_model_accuracy{' steps.out || { echo "FAIL: no accuracy gauge"; tail -20 steps.out; exit 1; }
grep -q 'champion' steps.out || { echo "FAIL: train registered no champion version"; exit 1; }
[ -s work/scored.csv ] && [ -s work/gb.hamf ] && [ -s work/hamf.db ] || { echo "FAIL: missing outputs"; ls work; exit 1; }
# the library as a user builds against it (not for sanitizer builds)
if ! nm "$prefix/lib/libhamf.a" 2>/dev/null | grep -q __asan_init; then
  cat > app.c <<'C'
#include <hamf.h>
#include <stdio.h>
int main(void) { printf("%s\n", hamf_version()); return 0; }
C
  PKG_CONFIG_PATH="$prefix/lib/pkgconfig" cc app.c $(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --cflags --libs hamf) -o app \
    || { echo "FAIL: cannot build against the installed library"; exit 1; }
  [ "$(./app)" = "$("$prefix/bin/hamf" version | awk '{print $NF}')" ] || { echo "FAIL: version $(./app)"; exit 1; }
fi
echo ok
