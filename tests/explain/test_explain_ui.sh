#!/usr/bin/env bash
# The UI's run page shows the SHAP importance chart that `hamf train` logs
# (shap_importance.svg, mean |SHAP| per feature on the test rows): a real
# `hamf server`, a training logged to it over REST, Debian's headless
# Chromium driven by playwright-core (tests/ui/node_modules, npm ci from the
# lock file as tests/ui/test_ui_chromium.sh does). Checks the chart the page
# draws from shap_importance.json: one bar per feature, in the logged order
# with the logged values, widths decreasing; links to the .svg and .json;
# the served .svg has one bar per feature. Screenshot: test-artifacts/ui-shap.png.
set -euo pipefail
UI_DIR="$HAMF_ROOT/tests/ui"
[ -x /usr/bin/chromium ] || { echo "FAIL: /usr/bin/chromium missing"; exit 1; }
if [ ! -d "$UI_DIR/node_modules/playwright-core" ]; then
  ( flock -w 300 9
    [ -d "$UI_DIR/node_modules/playwright-core" ] ||
      PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefix "$UI_DIR" --no-audit --no-fund --loglevel=error
  ) 9>/tmp/hamf-ui-npm.lock
fi
. "$HAMF_ROOT/tests/server/lib.sh"
server_start "$T/srv.db" "$T/art"
"$HAMF" datagen phishing --rows 1500 --seed 41 -o train.csv >/dev/null
"$HAMF" train train.csv --target phishing -o m.hamf -q --n-estimators 30 --tracking-uri "$SRV_URL" --json > train.json
RUN=$(/usr/bin/python3 -c "import json; print(json.load(open('train.json'))['run_id'])")
cat > ui_shap.mjs <<'JS'
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
const [base, run, profile] = process.argv.slice(2);
const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium', headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
});
try {
  const page = ctx.pages()[0] || await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${base}/#/runs/${run}`);
  const chart = page.locator('[data-testid="shap-importance"]');
  await chart.waitFor({ timeout: 20000 });
  const bars = await page.$$eval('[data-testid="shap-importance"] g.bar',
    (gs) => gs.map((g) => [g.dataset.feature, Number(g.dataset.value), Number(g.querySelector('rect').getAttribute('width'))]));
  const want = JSON.parse(process.env.SHAP_JSON).features;
  assert.deepEqual(bars.map((b) => b[0]), want.map((f) => f.feature));
  assert.deepEqual(bars.map((b) => b[1]), want.map((f) => f.mean_abs_shap));
  for (let i = 1; i < bars.length; i++) assert.ok(bars[i][2] <= bars[i - 1][2], 'bars sorted by width');
  assert.ok(bars[0][2] > 0);
  const links = await page.locator('[data-testid="shap-section"] figcaption a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
  assert.ok(links.some((h) => /shap_importance\.svg$/.test(h)) && links.some((h) => /shap_importance\.json$/.test(h)));
  await page.locator('[data-testid="shap-section"]').screenshot({ path: process.argv[5] });
  assert.deepEqual(errors, []);
  console.log('shap figure ok', bars.length, 'bars');
} finally {
  await ctx.close();
}
JS
cp ui_shap.mjs "$UI_DIR/.ui_shap_$$.mjs"
trap 'rm -f "$UI_DIR/.ui_shap_$$.mjs"; server_stop KILL' EXIT
mkdir -p profile
export SHAP_JSON=$(curl -sf "$SRV_URL/api/2.0/mlflow-artifacts/artifacts/1/$RUN/artifacts/shap_importance.json")
mkdir -p "$HAMF_BUILD/test-artifacts"
node "$UI_DIR/.ui_shap_$$.mjs" "$SRV_URL" "$RUN" "$T/profile" "$HAMF_BUILD/test-artifacts/ui-shap.png"
# the served SVG has one bar per model feature
n=$(curl -sf "$SRV_URL/api/2.0/mlflow-artifacts/artifacts/1/$RUN/artifacts/shap_importance.svg" | grep -c '<rect')
[ "$n" = 14 ] || { echo "expected 14 bars, got $n"; exit 1; }
server_stop
echo "ui ok"
