/*
 * ui.test.mjs — drives hamf's web UI in Debian's headless Chromium with
 * playwright-core (no browser download) against a running tracking server
 * filled by populate.py. Every expectation comes from data.json (what was
 * logged through the REST API), never from the UI itself.
 *
 * Environment: UI_BASE (http://127.0.0.1:PORT), UI_DATA (data.json),
 * UI_SHOTS (directory for ui-*.png screenshots), UI_PROFILE (an empty
 * directory for Chromium's --user-data-dir).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const BASE = process.env.UI_BASE;
const DATA = JSON.parse(fs.readFileSync(process.env.UI_DATA, 'utf8'));
const SHOTS = process.env.UI_SHOTS;
const PROFILE = process.env.UI_PROFILE;
const ORIGIN = new URL(BASE).origin;
const LOOP = JSON.parse(fs.readFileSync(process.env.UI_LOOP, 'utf8'));

/* Expected order of runs for `metrics.accuracy <dir>`: runs with the metric
 * sorted by value, ties by start_time DESC; runs without it last (by
 * start_time DESC), as MLflow orders. */
function expectedByAccuracy(dir) {
  const byStart = (a, b) => b.start_time - a.start_time;
  const have = DATA.runs.filter((r) => r.accuracy !== null)
    .sort((a, b) => (dir === 'DESC' ? b.accuracy - a.accuracy : a.accuracy - b.accuracy) || byStart(a, b));
  const miss = DATA.runs.filter((r) => r.accuracy === null).sort(byStart);
  return [...have, ...miss];
}

/* Runs an action that changes the route and waits until the UI says the
 * new view is complete (data-nav moved on, data-state ready). */
async function navigate(page, action, route) {
  const before = await page.$eval('#view', (v) => Number(v.dataset.nav || 0)).catch(() => 0);
  await action();
  await page.waitForFunction(([b, r]) => {
    const v = document.getElementById('view');
    return v && Number(v.dataset.nav || 0) > b && v.dataset.state !== 'loading' && (!r || v.dataset.route === r);
  }, [before, route]);
  const state = await page.$eval('#view', (v) => v.dataset.state);
  if (state !== 'ready') {
    const text = await page.$eval('#view', (v) => v.textContent);
    assert.fail(`view ${route} ended in state ${state}: ${text.slice(0, 400)}`);
  }
}

async function rowIds(page) {
  return page.$$eval('#runs-table tbody tr[data-run-id]', (rows) => rows.map((r) => r.dataset.runId));
}

async function accuracyCells(page) {
  return page.$$eval('#runs-table tbody td[data-col="metrics.accuracy"]',
    (tds) => tds.map((td) => (td.dataset.value === undefined ? null : Number(td.dataset.value))));
}

test('hamf web UI in headless Chromium', async (t) => {
  const context = await chromium.launchPersistentContext(PROFILE, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1360, height: 900 },
    acceptDownloads: true,
  });
  context.setDefaultTimeout(15000);
  const foreign = [];
  const searches = [];
  const consoleErrors = [];
  context.on('request', (req) => {
    const u = req.url();
    if (new URL(u).origin !== ORIGIN) foreign.push(u);
    if (u.includes('/api/2.0/mlflow/runs/search')) searches.push({ method: req.method(), body: req.postData() });
  });
  const page = context.pages()[0] || await context.newPage();
  page.on('pageerror', (e) => consoleErrors.push('pageerror: ' + e.message));
  page.on('console', (m) => {
    // The rejected filter answers 400 on purpose; Chromium logs that.
    if (m.type() === 'error' && !/status of 400/.test(m.text())) consoleErrors.push(m.text());
  });
  const exp = DATA.experiment_id;
  const byName = new Map(DATA.runs.map((r) => [r.name, r]));

  try {
    await t.test('served with security headers', async () => {
      const res = await page.goto(BASE + '/');
      assert.equal(res.status(), 200);
      const hdr = res.headers();
      assert.match(hdr['content-type'] || '', /^text\/html/);
      assert.match(hdr['content-security-policy'] || '', /default-src 'self'/);
      assert.equal(hdr['x-content-type-options'], 'nosniff');
      await page.waitForSelector('#view[data-state="ready"][data-route="experiments"]');
    });

    await t.test('experiments list links to the runs table', async () => {
      const link = page.locator(`#experiments-table tr[data-experiment-id="${exp}"] a`);
      assert.equal(await link.textContent(), DATA.experiment_name);
      await navigate(page, () => link.click(), 'runs');
      assert.equal(await page.textContent('[data-testid="experiment-name"]'), DATA.experiment_name);
      // Default order: newest run first.
      const newestFirst = [...DATA.runs].sort((a, b) => b.start_time - a.start_time).map((r) => r.run_id);
      assert.deepEqual(await rowIds(page), newestFirst);
      const headers = await page.$$eval('#runs-table thead th[data-col]', (ths) => ths.map((th) => th.dataset.col));
      for (const col of ['metrics.accuracy', 'metrics.f1_score', 'metrics.loss', 'params.algorithm', 'params.max_depth']) {
        assert.ok(headers.includes(col), `column ${col} in ${headers}`);
      }
    });

    await t.test('sort by accuracy, both directions, server-side', async () => {
      const th = 'th[data-col="metrics.accuracy"]';
      await navigate(page, () => page.click(`${th} a.sort`), 'runs');
      assert.equal(await page.getAttribute(th, 'aria-sort'), 'descending');
      let want = expectedByAccuracy('DESC');
      assert.deepEqual(await rowIds(page), want.map((r) => r.run_id));
      assert.deepEqual(await accuracyCells(page), want.map((r) => r.accuracy));
      const shown = await accuracyCells(page);
      const present = shown.filter((v) => v !== null);
      assert.deepEqual(present, [...present].sort((a, b) => b - a), 'descending values');
      assert.ok(searches.some((s) => s.method === 'POST' && JSON.parse(s.body).order_by[0] === 'metrics.accuracy DESC'),
        'runs/search was asked to order by metrics.accuracy DESC');

      await navigate(page, () => page.click(`${th} a.sort`), 'runs');
      assert.equal(await page.getAttribute(th, 'aria-sort'), 'ascending');
      want = expectedByAccuracy('ASC');
      assert.deepEqual(await rowIds(page), want.map((r) => r.run_id));
      assert.deepEqual(await accuracyCells(page), want.map((r) => r.accuracy));

      // Keyboard: Enter on a focused header sorts, and the focus stays there.
      const f1 = 'th[data-col="metrics.f1_score"]';
      await page.focus(`${f1} a.sort`);
      await navigate(page, () => page.keyboard.press('Enter'), 'runs');
      assert.equal(await page.getAttribute(f1, 'aria-sort'), 'descending');
      assert.equal(await page.getAttribute(th, 'aria-sort'), 'none');
      const byF1 = [...DATA.runs].sort((a, b) => (b.f1_score ?? -Infinity) - (a.f1_score ?? -Infinity) || b.start_time - a.start_time);
      assert.deepEqual(await rowIds(page), byF1.map((r) => r.run_id));
      assert.equal(await page.evaluate(() => document.activeElement.dataset.sortKey), 'metrics.f1_score');
    });

    await t.test('sorted pages: order holds across page tokens', async () => {
      const q = new URLSearchParams({ o: 'metrics.accuracy DESC', n: '4' });
      await navigate(page, () => page.goto(`${BASE}/#/experiments/${exp}?${q}`), 'runs');
      const want = expectedByAccuracy('DESC').map((r) => r.run_id);
      assert.deepEqual(await rowIds(page), want.slice(0, 4));
      assert.equal(await page.textContent('[data-testid="page-number"]'), 'Page 1');
      await navigate(page, () => page.click('#page-next'), 'runs');
      assert.deepEqual(await rowIds(page), want.slice(4, 8));
      assert.equal(await page.textContent('[data-testid="page-number"]'), 'Page 2');
      assert.ok(await page.isDisabled('#page-next'), 'no page after the last');
      await navigate(page, () => page.click('#page-prev'), 'runs');
      assert.deepEqual(await rowIds(page), want.slice(0, 4));
    });

    await t.test('filter box uses the runs/search filter syntax', async () => {
      await navigate(page, () => page.goto(`${BASE}/#/experiments/${exp}?o=${encodeURIComponent('metrics.accuracy DESC')}`), 'runs');
      const filter = "metrics.accuracy > 96 and params.algorithm = 'rf'";
      await page.fill('#filter-input', filter);
      await navigate(page, () => page.click('#filter-apply'), 'runs');
      const want = expectedByAccuracy('DESC').filter((r) => r.accuracy > 96 && r.params.algorithm === 'rf');
      assert.ok(want.length >= 2 && want.length < DATA.runs.length);
      assert.deepEqual(await rowIds(page), want.map((r) => r.run_id));
      assert.equal(await page.$('[data-testid="filter-error"]'), null);
      await page.screenshot({ path: path.join(SHOTS, 'ui-runs-filtered.png'), fullPage: true });

      // A filter the server rejects: its message is shown, no rows.
      await page.fill('#filter-input', 'metrics.accuracy >> 5');
      await navigate(page, () => page.click('#filter-apply'), 'runs');
      const err = page.locator('[data-testid="filter-error"]');
      assert.ok(await err.isVisible());
      assert.equal(await err.getAttribute('role'), 'alert');
      assert.match(await err.textContent(), /INVALID_PARAMETER_VALUE/);
      assert.deepEqual(await rowIds(page), []);

      await navigate(page, () => page.click('[data-testid="filter-clear"]'), 'runs');
      assert.equal(await page.inputValue('#filter-input'), '');
      assert.equal((await rowIds(page)).length, DATA.runs.length);
      await page.screenshot({ path: path.join(SHOTS, 'ui-runs.png'), fullPage: true });
    });

    const best = byName.get([...DATA.runs].filter((r) => r.accuracy !== null).sort((a, b) => b.accuracy - a.accuracy)[0].name);

    await t.test('run page: info, params, metrics, history chart', async () => {
      await navigate(page, () => page.click(`#runs-table tr[data-run-id="${best.run_id}"] a[data-testid="run-link"]`), 'run');
      assert.equal(await page.textContent('[data-testid="run-name"]'), best.name);
      assert.equal(await page.textContent('[data-testid="run-id"]'), best.run_id);
      for (const [k, v] of Object.entries(best.params)) {
        assert.equal(await page.textContent(`[data-testid="params-table"] tr[data-key="${k}"] td`), v);
      }
      assert.equal(Number(await page.getAttribute('[data-testid="metrics-table"] tr[data-key="accuracy"] td', 'data-value')), best.accuracy);
      assert.equal(await page.textContent('[data-testid="tags-table"] tr[data-key="team"] td'), 'phishing');

      const chart = page.locator('svg[data-testid="chart-loss"]');
      assert.equal(await chart.getAttribute('data-points'), String(best.loss.length));
      assert.equal(await chart.locator('circle.pt').count(), best.loss.length);
      const d = await chart.locator('path.line').getAttribute('d');
      assert.equal((d.match(/[ML]/g) || []).length, best.loss.length);
      // The line falls as the loss does: the y of each point grows (SVG y points down).
      const ys = await chart.locator('circle.pt').evaluateAll((cs) => cs.map((c) => Number(c.getAttribute('cy'))));
      for (let i = 1; i < ys.length; i++) assert.ok(ys[i] > ys[i - 1], `point ${i} lower than point ${i - 1}`);
      const xticks = await chart.locator('text.tick-x').allTextContents();
      assert.ok(xticks.includes('0') && xticks.some((x) => Number(x) >= best.loss.length - 1), `x ticks ${xticks}`);
      assert.ok((await chart.locator('text.tick-y').count()) >= 3);
      assert.match(await chart.getAttribute('aria-label'), /loss/);
      await page.screenshot({ path: path.join(SHOTS, 'ui-run.png'), fullPage: true });
    });

    await t.test('artifacts: browse into a folder and download', async () => {
      const list = page.locator('[data-testid="artifact-list"]');
      const top = await list.locator('li[data-path]').evaluateAll((lis) => lis.map((li) => li.dataset.path));
      const wantTop = [...new Set(DATA.artifact_files.map((f) => f.split('/')[0]))].sort();
      assert.deepEqual([...top].sort(), wantTop);
      const { dir, name, local } = DATA.artifact_download;
      await page.click(`li[data-path="${dir}"] button[data-testid="artifact-dir"]`);
      await page.waitForSelector(`[data-testid="artifacts"][data-path="${dir}"]`);
      const inner = await list.locator('li[data-path]').evaluateAll((lis) => lis.map((li) => li.dataset.path));
      assert.deepEqual([...inner].sort(), DATA.artifact_files.filter((f) => f.startsWith(dir + '/')).sort());
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.click(`li[data-path="${dir}/${name}"] a[data-testid="artifact-file"]`),
      ]);
      assert.equal(download.suggestedFilename(), name);
      const got = fs.readFileSync(await download.path());
      const want = fs.readFileSync(local);
      assert.equal(got.length, want.length);
      assert.ok(got.equals(want), 'downloaded bytes equal the logged artifact');
      assert.equal(new URL(download.url()).origin, ORIGIN);
    });

    await t.test('compare two runs side by side', async () => {
      const a = byName.get('rf-baseline');
      const b = byName.get('rf-deep');
      await navigate(page, () => page.goto(`${BASE}/#/experiments/${exp}`), 'runs');
      assert.ok(await page.isDisabled('#compare-button'));
      await page.check(`#runs-table tr[data-run-id="${a.run_id}"] input.run-select`);
      await page.check(`#runs-table tr[data-run-id="${b.run_id}"] input.run-select`);
      assert.equal(await page.textContent('#compare-button'), 'Compare selected (2)');
      await navigate(page, () => page.click('#compare-button'), 'compare');
      const cols = await page.$$eval('#compare-table thead th[data-run-id]', (ths) => ths.map((th) => th.dataset.runId));
      assert.deepEqual(cols.sort(), [a.run_id, b.run_id].sort());
      const diffOf = (key) => page.getAttribute(`#compare-table tr[data-key="${key}"]`, 'data-diff');
      for (const k of Object.keys(a.params)) {
        assert.equal(await diffOf('params.' + k), String(a.params[k] !== b.params[k]), 'params.' + k);
      }
      assert.equal(await diffOf('metrics.accuracy'), String(a.accuracy !== b.accuracy));
      assert.equal(await diffOf('metrics.accuracy'), 'true');
      assert.equal(await diffOf('params.algorithm'), 'false');
      const cells = await page.$$eval('#compare-table tr[data-key="params.max_depth"] td', (tds) => tds.map((td) => td.textContent));
      assert.deepEqual(cells.sort(), [a.params.max_depth, b.params.max_depth].sort());

      const chart = page.locator('svg[data-testid="compare-chart-loss"]');
      assert.equal(await chart.getAttribute('data-series'), '2');
      assert.equal(await chart.getAttribute('data-points'), String(a.loss.length + b.loss.length));
      const series = await chart.locator('g.series').evaluateAll((gs) => gs.map((g) => [g.dataset.runId, g.querySelectorAll('circle.pt').length]));
      assert.deepEqual(Object.fromEntries(series), { [a.run_id]: a.loss.length, [b.run_id]: b.loss.length });
      await page.screenshot({ path: path.join(SHOTS, 'ui-compare.png'), fullPage: true });

      await page.check('#only-diff');
      assert.equal(await page.isVisible('#compare-table tr[data-key="params.algorithm"]'), false);
      assert.equal(await page.isVisible('#compare-table tr[data-key="params.max_depth"]'), true);
    });

    await t.test('MLflow run URL opens the run page, which names its registered versions', async () => {
      const reg = DATA.registry;
      const v1 = reg.versions['1'];
      const run = DATA.runs.find((r) => r.run_id === v1.run_id);
      await navigate(page, () => page.goto(`${BASE}/#/experiments/${exp}/runs/${v1.run_id}`), 'run');
      assert.equal(await page.textContent('[data-testid="run-id"]'), v1.run_id);
      assert.equal(await page.textContent('[data-testid="run-name"]'), run.name);
      assert.equal(await page.textContent('[data-testid="run-registered"]'), `registered as ${reg.name} version 1`);
      await navigate(page, () => page.click('[data-testid="run-registered"] a'), 'model-version');
      assert.equal(await page.textContent('[data-testid="model-name"]'), `${reg.name} version 1`);
    });

    await t.test('Models page: every model, its latest versions and aliases', async () => {
      await navigate(page, () => page.click('[data-testid="models-link"]'), 'models');
      const names = await page.$$eval('[data-testid="models-table"] tbody tr', (trs) => trs.map((tr) => tr.dataset.model));
      assert.deepEqual(names, ['PhishingDetectionModel', DATA.registry.name].sort());
      const aliases = await page.textContent(`tr[data-model="${DATA.registry.name}"] [data-testid="model-aliases"]`);
      assert.equal(aliases, '@challenger → v2 @champion → v1'); // alias order
      const loopChamp = LOOP.find((v) => v.aliases.split(',').includes('champion'));
      const la = await page.textContent('tr[data-model="PhishingDetectionModel"] [data-testid="model-aliases"]');
      assert.ok(la.includes(`@champion → v${loopChamp.version}`), la);
      await page.screenshot({ path: path.join(SHOTS, 'ui-models.png'), fullPage: true });
    });

    await t.test('model page: versions with aliases, digest, run, stage, tags; promotions; retrain reasons', async () => {
      const reg = DATA.registry;
      await navigate(page, () => page.click(`tr[data-model="${reg.name}"] th a`), 'model');
      for (const [v, want] of Object.entries(reg.versions)) {
        const row = `[data-testid="versions-table"] tr[data-version="${v}"]`;
        const al = await page.$$eval(`${row} [data-alias]`, (s) => s.map((x) => x.dataset.alias));
        assert.deepEqual(al, want.aliases);
        assert.equal(await page.textContent(`${row} td:nth-child(5)`), want.stage);
        if (want.tags) assert.equal(await page.textContent(`${row} td:nth-child(6)`), want.tags);
        assert.equal(await page.getAttribute(`${row} td a.mono`, 'href'), `#/runs/${want.run_id}`);
      }
      // hamf's own model: digests of the stored copies, promotion history, the decision's reason
      await navigate(page, () => page.goto(`${BASE}/#/models/PhishingDetectionModel`), 'model');
      for (const v of LOOP) {
        assert.equal(await page.getAttribute(`tr[data-version="${v.version}"] [data-testid="version-digest"]`, 'title'), v.digest);
      }
      const actions = await page.$$eval('[data-testid="promotions"] li', (lis) => lis.map((li) => li.dataset.action));
      assert.equal(actions[actions.length - 1], 'initial');
      const decided = LOOP.find((v) => v.decision);
      assert.ok(decided, 'retrain recorded a decision');
      const text = await page.textContent('[data-testid="decisions"] li');
      assert.ok(text.includes(decided.decision_reason), `${text} lacks "${decided.decision_reason}"`);
      assert.ok(text.includes(decided.decision), text);
      await page.screenshot({ path: path.join(SHOTS, 'ui-model.png'), fullPage: true });
    });

    await t.test('no request left the origin, no script errors', () => {
      assert.deepEqual(foreign, []);
      assert.deepEqual(consoleErrors, []);
    });
  } finally {
    await context.close();
  }
});
