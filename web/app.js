/*
 * app.js — hamf's tracking web UI: a single page with a small hash router.
 *
 *   #/                          experiments list
 *   #/experiments/<id>?f=&o=&n=&p=&v=   runs table (filter, order_by, page size,
 *                               page token, run view type), sortable columns,
 *                               selection for compare
 *   #/runs/<run_id>             run page: info, metrics + history charts,
 *                               params, tags, artifacts (browse + download)
 *   #/compare?runs=a,b[,c...]   side-by-side table and overlaid charts
 *   #/models                    registered models: latest versions, aliases
 *   #/models/<name>             a model: versions (aliases, sha256 digest,
 *                               source run, stage, tags, created), promotion
 *                               history, each retrain decision and its reasons
 *   #/models/<name>/versions/<v>  one version
 *   MLflow's own URLs work too: #/experiments/<id>/runs/<run_id> (the link
 *   MLflow's client prints) opens the run page.
 *
 * It talks only to this server's MLflow REST API (same origin, relative
 * URLs): experiments/search, experiments/get, runs/search (POST), runs/get,
 * metrics/get-history, artifacts/list, and GET mlflow-artifacts/artifacts/
 * for downloads. Sorting and filtering are done by the server (order_by,
 * filter) so they hold across pages. The DOM is built with createElement and
 * textContent only (never innerHTML), so server data cannot inject markup,
 * and nothing here needs 'unsafe-inline' under CSP default-src 'self'.
 */
'use strict';

(() => {
  const API = 'api/2.0/mlflow/';
  const ARTIFACTS = 'api/2.0/mlflow-artifacts/artifacts/';
  const SVG_NS = 'http://www.w3.org/2000/svg';
  const PAGE_SIZES = [10, 25, 50, 100, 500];
  const DEFAULT_PAGE_SIZE = 50;
  const MAX_PAGES = 50; // safety bound when following next_page_token
  const SERIES_COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd',
    '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];

  /* ---------------------------------------------------------------- */
  /* REST client                                                       */
  /* ---------------------------------------------------------------- */

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  /* GET sends fields as query parameters (arrays repeated); POST sends a
   * JSON body. Resolves to the parsed body; rejects with ApiError carrying
   * MLflow's error_code and message. */
  async function api(method, endpoint, fields) {
    let url = API + endpoint;
    const init = { method, headers: { Accept: 'application/json' }, credentials: 'same-origin' };
    if (method === 'GET') {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(fields || {})) {
        if (v === undefined || v === null || v === '') continue;
        for (const one of Array.isArray(v) ? v : [v]) q.append(k, String(one));
      }
      const qs = q.toString();
      if (qs) url += '?' + qs;
    } else {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(fields || {});
    }
    let res;
    try {
      res = await fetch(url, init);
    } catch (e) {
      throw new ApiError(0, 'NETWORK_ERROR', 'Cannot reach the server (' + e.message + ')');
    }
    const text = await res.text();
    let body = null;
    try {
      body = text ? JSON.parse(text) : {};
    } catch (e) {
      body = null;
    }
    if (!res.ok) {
      const code = (body && body.error_code) || 'HTTP_' + res.status;
      const msg = (body && body.message) || text.slice(0, 300) || res.statusText;
      throw new ApiError(res.status, code, msg);
    }
    if (body === null || typeof body !== 'object') {
      throw new ApiError(res.status, 'BAD_RESPONSE', 'The server sent a response that is not JSON');
    }
    return body;
  }

  /* Follows next_page_token until it is absent or empty; `key` names the
   * array to collect. Bounded by MAX_PAGES. */
  async function apiAll(method, endpoint, fields, key) {
    const out = [];
    let token;
    for (let i = 0; i < MAX_PAGES; i++) {
      const body = await api(method, endpoint, Object.assign({}, fields, token ? { page_token: token } : {}));
      if (Array.isArray(body[key])) out.push(...body[key]);
      token = body.next_page_token;
      if (!token) break;
    }
    return out;
  }

  async function metricHistory(runId, key) {
    const pts = await apiAll('GET', 'metrics/get-history',
      { run_id: runId, metric_key: key, max_results: 25000 }, 'metrics');
    return pts
      .filter((m) => typeof m.value === 'number' && Number.isFinite(m.value))
      .map((m) => ({ step: Number(m.step || 0), value: m.value, timestamp: Number(m.timestamp || 0) }))
      .sort((a, b) => a.step - b.step || a.timestamp - b.timestamp);
  }

  const experimentCache = new Map(); // id -> experiment object

  async function getExperiment(id) {
    if (experimentCache.has(id)) return experimentCache.get(id);
    const body = await api('GET', 'experiments/get', { experiment_id: id });
    experimentCache.set(id, body.experiment);
    return body.experiment;
  }

  /* ---------------------------------------------------------------- */
  /* DOM helpers                                                       */
  /* ---------------------------------------------------------------- */

  function append(el, kids) {
    for (const k of kids) {
      if (k === null || k === undefined || k === false) continue;
      if (Array.isArray(k)) append(el, k);
      else if (k instanceof Node) el.appendChild(k);
      else el.appendChild(document.createTextNode(String(k)));
    }
    return el;
  }

  function setAttrs(el, attrs) {
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else if (k === 'class') el.setAttribute('class', v);
      else if (k in el && typeof v !== 'string' && !(el instanceof SVGElement)) el[k] = v;
      else el.setAttribute(k, v === true ? '' : String(v));
    }
    return el;
  }

  /* h('a', {href: '#/'}, 'text', child...) */
  function h(tag, attrs, ...kids) {
    return append(setAttrs(document.createElement(tag), attrs), kids);
  }

  function svg(tag, attrs, ...kids) {
    return append(setAttrs(document.createElementNS(SVG_NS, tag), attrs), kids);
  }

  function clear(el) {
    while (el.firstChild) el.removeChild(el.firstChild);
    return el;
  }

  /* ---------------------------------------------------------------- */
  /* Formatting                                                        */
  /* ---------------------------------------------------------------- */

  function pad2(n) {
    return String(n).padStart(2, '0');
  }

  function fmtTime(ms) {
    if (ms === undefined || ms === null || ms === '' || Number(ms) <= 0) return '—';
    const d = new Date(Number(ms));
    return d.getFullYear() + '-' + pad2(d.getMonth() + 1) + '-' + pad2(d.getDate()) + ' ' +
      pad2(d.getHours()) + ':' + pad2(d.getMinutes()) + ':' + pad2(d.getSeconds());
  }

  function fmtDuration(start, end) {
    if (!start || !end || Number(end) < Number(start)) return '—';
    let ms = Number(end) - Number(start);
    if (ms < 1000) return ms + ' ms';
    let s = Math.round(ms / 1000);
    if (s < 60) return s + ' s';
    const m = Math.floor(s / 60);
    s %= 60;
    if (m < 60) return m + ' min ' + s + ' s';
    return Math.floor(m / 60) + ' h ' + (m % 60) + ' min';
  }

  /* Up to 6 significant digits for display; the exact value goes in a
   * title/data-value next to it. */
  function fmtNum(v) {
    if (typeof v !== 'number') return v === undefined || v === null ? '—' : String(v);
    if (!Number.isFinite(v)) return String(v);
    if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
    const a = Math.abs(v);
    if (a !== 0 && (a < 1e-4 || a >= 1e9)) return v.toExponential(4).replace(/\.?0+e/, 'e');
    return String(Number(v.toPrecision(6)));
  }

  function fmtBytes(n) {
    if (n === undefined || n === null) return '';
    n = Number(n);
    if (n < 1024) return n + ' B';
    if (n < 1024 * 1024) return (n / 1024).toFixed(1) + ' KiB';
    if (n < 1024 * 1024 * 1024) return (n / 1024 / 1024).toFixed(1) + ' MiB';
    return (n / 1024 / 1024 / 1024).toFixed(2) + ' GiB';
  }

  function shortId(id) {
    return id ? String(id).slice(0, 8) : '';
  }

  function runName(run) {
    return (run.info && run.info.run_name) || tagValue(run, 'mlflow.runName') || (run.info && run.info.run_id) || '';
  }

  function tagValue(run, key) {
    const t = ((run.data && run.data.tags) || []).find((x) => x.key === key);
    return t ? t.value : undefined;
  }

  function kv(list) {
    const m = new Map();
    for (const x of list || []) m.set(x.key, x);
    return m;
  }

  /* "metrics.accuracy", or "metrics.`my key`" for keys that need quoting
   * in MLflow's filter / order_by grammar. */
  function entityKey(entity, key) {
    if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) return entity + '.' + key;
    return entity + '.' + (key.includes('`') ? '"' + key + '"' : '`' + key + '`');
  }

  function parseOrder(o) {
    const m = /^(.*?)\s+(ASC|DESC)$/i.exec((o || '').trim());
    if (!m) return o ? { key: o.trim(), dir: 'ASC' } : null;
    return { key: m[1], dir: m[2].toUpperCase() };
  }

  /* ---------------------------------------------------------------- */
  /* Router and page frame                                             */
  /* ---------------------------------------------------------------- */

  const view = () => document.getElementById('view');
  let navSerial = 0;
  let lastPath = null;

  function parseHash() {
    const raw = location.hash.replace(/^#/, '') || '/';
    const qi = raw.indexOf('?');
    const path = qi < 0 ? raw : raw.slice(0, qi);
    const query = new URLSearchParams(qi < 0 ? '' : raw.slice(qi + 1));
    const parts = path.split('/').filter(Boolean).map((p) => {
      try {
        return decodeURIComponent(p);
      } catch (e) {
        return p;
      }
    });
    return { path, parts, query };
  }

  function link(parts, query) {
    const q = query ? new URLSearchParams(query).toString() : '';
    return '#/' + parts.map(encodeURIComponent).join('/') + (q ? '?' + q : '');
  }

  function setStatus(text) {
    const el = document.getElementById('status');
    if (el) el.textContent = text || '';
  }

  function setCrumbs(items) {
    const ol = clear(document.getElementById('crumbs'));
    items.forEach((it, i) => {
      const last = i === items.length - 1;
      ol.appendChild(h('li', {},
        last || !it.href ? h('span', { 'aria-current': last ? 'page' : null }, it.label)
          : h('a', { href: it.href }, it.label)));
    });
  }

  /* Each navigation gets a context; a render whose context is stale
   * (the user navigated on) stops touching the page. */
  function newContext(route) {
    const serial = ++navSerial;
    return {
      alive: () => serial === navSerial,
      serial,
      route,
    };
  }

  /* Replaces the view. A control that had the focus (a sort header, the
   * filter box, a pager button) gets it back in the new view, so keyboard
   * users keep their place when sorting or paging. */
  function render(ctx, title, nodes) {
    if (!ctx.alive()) return;
    const a = document.activeElement;
    const sel = a && a !== document.body && view().contains(a)
      ? (a.id ? '#' + CSS.escape(a.id) : a.dataset.sortKey ? 'a[data-sort-key="' + CSS.escape(a.dataset.sortKey) + '"]' : null)
      : null;
    const v = clear(view());
    v.dataset.route = ctx.route;
    append(v, nodes);
    document.title = title + ' · hamf tracking';
    const again = sel && v.querySelector(sel);
    if (again && !again.disabled) again.focus({ preventScroll: true });
  }

  /* data-nav counts finished navigations and data-state says whether the
   * view is complete (charts and artifact listing included): tests and
   * scripts wait on them instead of guessing. */
  function done(ctx) {
    if (!ctx.alive()) return;
    view().dataset.nav = String(ctx.serial);
    view().dataset.state = 'ready';
    setStatus('');
  }

  function errorBox(err, testid) {
    const code = err && err.code ? err.code + ': ' : '';
    return h('div', { class: 'error', role: 'alert', 'data-testid': testid || 'error' },
      h('strong', {}, 'Error. '), code + (err && err.message ? err.message : String(err)));
  }

  function fail(ctx, err) {
    if (!ctx.alive()) return;
    render(ctx, 'Error', [h('h1', { tabindex: '-1' }, 'Something went wrong'), errorBox(err, 'page-error')]);
    view().dataset.nav = String(ctx.serial);
    view().dataset.state = 'error';
    setStatus('');
  }

  async function route() {
    const { path, parts, query } = parseHash();
    const name = parts[0] || 'experiments';
    const ctx = newContext(name);
    view().dataset.state = 'loading';
    setStatus('Loading…');
    const pathChanged = path !== lastPath;
    lastPath = path;
    try {
      if (parts.length === 0 || (name === 'experiments' && parts.length === 1)) {
        ctx.route = 'experiments';
        await viewExperiments(ctx, query);
      } else if (name === 'experiments' && parts.length === 2) {
        ctx.route = 'runs';
        await viewRuns(ctx, parts[1], query);
      } else if (name === 'runs' && parts.length === 2) {
        ctx.route = 'run';
        await viewRun(ctx, parts[1]);
      } else if (name === 'experiments' && parts.length === 4 && parts[2] === 'runs') {
        ctx.route = 'run'; // MLflow's run URL
        await viewRun(ctx, parts[3]);
      } else if (name === 'models' && parts.length === 1) {
        ctx.route = 'models';
        await viewModels(ctx);
      } else if (name === 'models' && parts.length === 2) {
        ctx.route = 'model';
        await viewModel(ctx, parts[1], null);
      } else if (name === 'models' && parts.length === 4 && parts[2] === 'versions') {
        ctx.route = 'model-version';
        await viewModel(ctx, parts[1], parts[3]);
      } else if (name === 'compare') {
        ctx.route = 'compare';
        await viewCompare(ctx, query);
      } else {
        ctx.route = 'notfound';
        setCrumbs([{ label: 'Experiments', href: '#/' }, { label: 'Not found' }]);
        render(ctx, 'Not found', [h('h1', { tabindex: '-1' }, 'Page not found'),
          h('p', {}, 'No page at ', h('code', {}, '#' + path), '. ', h('a', { href: '#/' }, 'Back to experiments'), '.')]);
      }
      done(ctx);
    } catch (err) {
      fail(ctx, err);
    }
    if (pathChanged && ctx.alive()) {
      const h1 = view().querySelector('h1');
      if (h1 && document.activeElement === document.body) h1.focus({ preventScroll: true });
    }
  }

  /* ---------------------------------------------------------------- */
  /* Models (the registry)                                             */
  /* ---------------------------------------------------------------- */

  /* hamf's own JSON views of the registry (GET, query fields). */
  async function hamfApi(endpoint, fields) {
    const q = new URLSearchParams(fields || {}).toString();
    const res = await fetch('api/hamf/v1/' + endpoint + (q ? '?' + q : ''),
      { headers: { Accept: 'application/json' }, credentials: 'same-origin' });
    let body = null;
    try {
      body = await res.json();
    } catch (e) {
      body = null;
    }
    if (!res.ok) throw new ApiError(res.status, body && body.error_code, (body && body.message) || res.statusText);
    return body || {};
  }

  function aliasChips(list) {
    return h('span', { class: 'aliases' }, (list || []).map((a) => h('span', { class: 'badge alias', 'data-alias': a }, '@' + a)));
  }

  async function viewModels(ctx) {
    setCrumbs([{ label: 'Experiments', href: '#/' }, { label: 'Models' }]);
    const { models } = await hamfApi('models');
    const rows = (models || []).map((m) => {
      const aliases = {};
      for (const a of m.aliases || []) (aliases[a.version] = aliases[a.version] || []).push(a.alias);
      const latest = (m.latest_versions || []).slice().sort((a, b) => Number(b.version) - Number(a.version));
      return h('tr', { 'data-model': m.name },
        h('th', { scope: 'row' }, h('a', { href: link(['models', m.name]) }, m.name)),
        h('td', { class: 'num' }, String(m.version_count)),
        h('td', {}, latest.map((v, i) => h('span', {}, i ? ', ' : '',
          h('a', { href: link(['models', m.name, 'versions', v.version]) }, 'v' + v.version),
          v.current_stage && v.current_stage !== 'None' ? ' (' + v.current_stage + ')' : ''))),
        h('td', { 'data-testid': 'model-aliases' }, (m.aliases || []).map((a, i) => h('span', {}, i ? ' ' : '',
          h('span', { class: 'badge alias' }, '@' + a.alias), ' → v' + a.version))),
        h('td', {}, fmtTime(m.last_updated_timestamp)),
        h('td', {}, m.description || ''));
    });
    render(ctx, 'Models', [
      h('h1', { tabindex: '-1' }, 'Registered models'),
      rows.length === 0 ? h('p', { class: 'empty', 'data-testid': 'models-empty' }, 'No registered models.')
        : h('div', { class: 'table-wrap' }, h('table', { class: 'grid', 'data-testid': 'models-table' },
          h('caption', { class: 'sr-only' }, 'Registered models'),
          h('thead', {}, h('tr', {}, ['Name', 'Versions', 'Latest versions', 'Aliases', 'Last modified', 'Description']
            .map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', {}, rows))),
    ]);
  }

  async function viewModel(ctx, name, onlyVersion) {
    const j = await hamfApi('model', { name });
    const rm = j.registered_model || {};
    const versions = (j.versions || []).filter((v) => onlyVersion === null || v.version === String(onlyVersion));
    if (onlyVersion !== null && versions.length === 0) {
      throw new ApiError(404, 'RESOURCE_DOES_NOT_EXIST', 'Model Version (name=' + name + ', version=' + onlyVersion + ') not found');
    }
    setCrumbs([{ label: 'Experiments', href: '#/' }, { label: 'Models', href: '#/models' },
      onlyVersion === null ? { label: name } : { label: name, href: link(['models', name]) },
      ...(onlyVersion === null ? [] : [{ label: 'Version ' + onlyVersion }])]);
    const vrows = versions.map((v) => h('tr', { 'data-version': v.version },
      h('th', { scope: 'row' }, h('a', { href: link(['models', name, 'versions', v.version]) }, 'Version ' + v.version)),
      h('td', { 'data-testid': 'version-aliases' }, aliasChips(v.aliases)),
      h('td', { class: 'mono', 'data-testid': 'version-digest', title: v.digest || '' }, v.digest ? v.digest.slice(0, 12) : '—'),
      h('td', {}, v.run_id && !v.run_id.startsWith('REDACTED') ? h('a', { href: link(['runs', v.run_id]), class: 'mono' }, shortId(v.run_id)) : '—'),
      h('td', {}, v.current_stage || 'None'),
      h('td', {}, (v.tags || []).map((t) => t.key + '=' + t.value).join(', ')),
      h('td', {}, fmtTime(v.creation_timestamp)),
      h('td', {}, v.origin || ''),
      h('td', { class: 'mono wide-cell' }, v.source || '')));
    const nodes = [
      h('h1', { tabindex: '-1', 'data-testid': 'model-name' }, onlyVersion === null ? name : name + ' version ' + onlyVersion),
      rm.description ? h('p', {}, rm.description) : null,
      h('section', { 'aria-labelledby': 'sec-versions' }, h('h2', { id: 'sec-versions' }, 'Versions'),
        h('div', { class: 'table-wrap' }, h('table', { class: 'grid', 'data-testid': 'versions-table' },
          h('caption', { class: 'sr-only' }, 'Versions of ' + name),
          h('thead', {}, h('tr', {}, ['Version', 'Aliases', 'SHA-256', 'Source run', 'Stage', 'Tags', 'Created', 'Origin', 'Source']
            .map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', {}, vrows)))),
    ];
    if (onlyVersion === null) {
      const promos = j.promotions || [];
      nodes.push(h('section', { 'aria-labelledby': 'sec-promotions' }, h('h2', { id: 'sec-promotions' }, 'Promotion history'),
        promos.length === 0 ? h('p', { class: 'empty' }, 'No promotions.')
          : h('ol', { class: 'history', 'data-testid': 'promotions' }, promos.map((p) => h('li', { 'data-action': p.action },
            fmtTime(Date.parse(p.created_at)), ' — ', p.action, ': champion ',
            p.from_version === null ? '' : 'v' + p.from_version + ' → ', 'v' + p.to_version,
            p.reason ? ' (' + p.reason + ')' : '')))));
      const decisions = j.decisions || [];
      nodes.push(h('section', { 'aria-labelledby': 'sec-decisions' }, h('h2', { id: 'sec-decisions' }, 'Retrain decisions'),
        decisions.length === 0 ? h('p', { class: 'empty' }, 'No retrain decisions.')
          : h('ol', { class: 'history', 'data-testid': 'decisions' }, decisions.map((d) => h('li', { 'data-promoted': String(d.promoted) },
            fmtTime(Date.parse(d.created_at)), ' — challenger v' + d.challenger_version + ' vs champion v' + d.champion_version + ': ',
            h('strong', {}, d.promoted ? 'promoted' : 'rejected'), ' — ', d.reason)))));
    }
    render(ctx, onlyVersion === null ? name : name + ' v' + onlyVersion, nodes.filter(Boolean));
  }

  /* ---------------------------------------------------------------- */
  /* Experiments list                                                  */
  /* ---------------------------------------------------------------- */

  async function viewExperiments(ctx, query) {
    const showDeleted = query.get('v') === 'all';
    setCrumbs([{ label: 'Experiments' }]);
    const exps = await apiAll('POST', 'experiments/search',
      { max_results: 1000, view_type: showDeleted ? 'ALL' : 'ACTIVE_ONLY' }, 'experiments');
    for (const e of exps) experimentCache.set(e.experiment_id, e);

    const toggle = h('label', { class: 'inline' },
      h('input', {
        type: 'checkbox', id: 'show-deleted-experiments', checked: showDeleted,
        onchange: (ev) => { location.hash = link(['experiments'], ev.target.checked ? { v: 'all' } : null); },
      }), ' Include deleted experiments');

    let body;
    if (exps.length === 0) {
      body = h('p', { class: 'empty', 'data-testid': 'experiments-empty' }, 'No experiments yet.');
    } else {
      body = h('div', { class: 'table-wrap' },
        h('table', { class: 'grid', id: 'experiments-table', 'data-testid': 'experiments-table' },
          h('caption', { class: 'sr-only' }, 'Experiments'),
          h('thead', {}, h('tr', {},
            h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col', class: 'num' }, 'ID'),
            h('th', { scope: 'col' }, 'Created'), h('th', { scope: 'col' }, 'Last updated'),
            h('th', { scope: 'col' }, 'Artifact location'))),
          h('tbody', {}, exps.map((e) => h('tr', {
            'data-experiment-id': e.experiment_id,
            class: e.lifecycle_stage === 'deleted' ? 'deleted' : null,
          },
          h('td', {}, h('a', { href: link(['experiments', e.experiment_id]), 'data-testid': 'experiment-link' }, e.name),
            e.lifecycle_stage === 'deleted' ? h('span', { class: 'badge badge-muted' }, 'deleted') : null),
          h('td', { class: 'num' }, e.experiment_id),
          h('td', {}, fmtTime(e.creation_time)),
          h('td', {}, fmtTime(e.last_update_time)),
          h('td', { class: 'mono' }, e.artifact_location || ''))))));
    }
    render(ctx, 'Experiments', [
      h('div', { class: 'page-head' }, h('h1', { tabindex: '-1' }, 'Experiments'), toggle),
      body,
    ]);
  }

  /* ---------------------------------------------------------------- */
  /* Runs table                                                        */
  /* ---------------------------------------------------------------- */

  // Selection for compare survives paging, sorting and filtering within
  // one experiment; the page-token history backs the "Previous" button.
  const selection = { experiment: null, ids: new Map() }; // run_id -> name
  const paging = { key: null, trail: [''] }; // tokens of the pages visited, first = ''

  function runsQuery(query) {
    const n = Number(query.get('n'));
    return {
      filter: query.get('f') || '',
      order: query.get('o') || '',
      size: Number.isInteger(n) && n >= 1 && n <= 1000 ? n : DEFAULT_PAGE_SIZE,
      token: query.get('p') || '',
      viewType: ['ACTIVE_ONLY', 'DELETED_ONLY', 'ALL'].includes(query.get('v')) ? query.get('v') : 'ACTIVE_ONLY',
    };
  }

  function runsLink(expId, st, changes) {
    const s = Object.assign({}, st, changes);
    const q = {};
    if (s.filter) q.f = s.filter;
    if (s.order) q.o = s.order;
    if (s.size !== DEFAULT_PAGE_SIZE) q.n = String(s.size);
    if (s.viewType !== 'ACTIVE_ONLY') q.v = s.viewType;
    if (s.token) q.p = s.token;
    return link(['experiments', expId], q);
  }

  /* The next order for a click on a column: same column flips the
   * direction; a new column starts DESC for metrics and times (best or
   * newest first), ASC otherwise. */
  function nextOrder(current, key) {
    const cur = parseOrder(current);
    if (cur && cur.key === key) return key + (cur.dir === 'DESC' ? ' ASC' : ' DESC');
    const descFirst = key.startsWith('metrics.') || key === 'attributes.start_time';
    return key + (descFirst ? ' DESC' : ' ASC');
  }

  async function viewRuns(ctx, expId, query) {
    const st = runsQuery(query);
    if (selection.experiment !== expId) {
      selection.experiment = expId;
      selection.ids.clear();
    }
    const pageKey = [expId, st.filter, st.order, st.size, st.viewType].join('\u0000');
    if (paging.key !== pageKey) {
      paging.key = pageKey;
      paging.trail = [''];
    }
    const seen = paging.trail.indexOf(st.token);
    if (seen >= 0) paging.trail = paging.trail.slice(0, seen + 1);
    else paging.trail.push(st.token);

    const exp = await getExperiment(expId);
    setCrumbs([{ label: 'Experiments', href: '#/' }, { label: exp.name }]);

    let runs = [];
    let nextToken = null;
    let searchError = null;
    try {
      const body = await api('POST', 'runs/search', {
        experiment_ids: [expId],
        filter: st.filter,
        run_view_type: st.viewType,
        max_results: st.size,
        order_by: st.order ? [st.order] : [],
        page_token: st.token || undefined,
      });
      runs = body.runs || [];
      nextToken = body.next_page_token || null;
    } catch (err) {
      if (!(err instanceof ApiError) || err.status !== 400) throw err;
      searchError = err;
    }

    // Columns: every metric and param key present on this page.
    const metricKeys = new Set();
    const paramKeys = new Set();
    for (const r of runs) {
      for (const m of (r.data && r.data.metrics) || []) metricKeys.add(m.key);
      for (const p of (r.data && r.data.params) || []) paramKeys.add(p.key);
    }
    const mKeys = [...metricKeys].sort();
    const pKeys = [...paramKeys].sort();
    const order = parseOrder(st.order);

    const sortHeader = (label, key, extraClass) => {
      const active = order && order.key === key;
      const dir = active ? (order.dir === 'DESC' ? 'descending' : 'ascending') : 'none';
      return h('th', { scope: 'col', class: extraClass, 'aria-sort': dir, 'data-testid': 'col-' + key, 'data-col': key },
        h('a', {
          class: 'sort', href: runsLink(expId, st, { order: nextOrder(st.order, key), token: '' }),
          'data-sort-key': key, title: 'Sort by ' + label,
        }, label, h('span', { class: 'sort-mark', 'aria-hidden': 'true' },
          dir === 'descending' ? ' ▼' : dir === 'ascending' ? ' ▲' : ' ↕')));
    };

    // ---- filter form
    const input = h('input', {
      type: 'search', id: 'filter-input', name: 'filter', 'data-testid': 'filter-input',
      value: st.filter, autocomplete: 'off', spellcheck: 'false',
      placeholder: "metrics.accuracy > 90 and params.max_depth = '6'",
      'aria-describedby': 'filter-help',
    });
    const form = h('form', {
      class: 'filter', role: 'search', id: 'filter-form',
      onsubmit: (ev) => {
        ev.preventDefault();
        const target = runsLink(expId, st, { filter: input.value.trim(), token: '' });
        if (target === location.hash) route();
        else location.hash = target;
      },
    },
    h('label', { for: 'filter-input' }, 'Filter'),
    input,
    h('button', { type: 'submit', id: 'filter-apply', 'data-testid': 'filter-apply' }, 'Apply'),
    st.filter ? h('a', { class: 'button-link', href: runsLink(expId, st, { filter: '', token: '' }), 'data-testid': 'filter-clear' }, 'Clear') : null);
    const help = h('details', { class: 'help', id: 'filter-help' },
      h('summary', {}, 'Filter syntax'),
      h('p', {}, 'Clauses joined with ', h('code', {}, 'and'), ' (no ', h('code', {}, 'or'), '), as in MLflow\'s runs/search:'),
      h('ul', {},
        h('li', {}, h('code', {}, 'metrics.accuracy >= 95'), ' — numbers with =, !=, <, <=, >, >='),
        h('li', {}, h('code', {}, "params.algorithm = 'gbdt'"), ' — quoted strings with =, !=, LIKE, ILIKE'),
        h('li', {}, h('code', {}, "tags.stage LIKE 'prod%'"), ', ', h('code', {}, "attributes.status = 'FINISHED'")),
        h('li', {}, h('code', {}, "attributes.run_id IN ('a1…', 'b2…')"), '; quote odd keys: ', h('code', {}, 'metrics.`val loss` < 0.3'))));

    const viewSel = h('select', {
      id: 'run-view-type', 'data-testid': 'run-view-type',
      onchange: (ev) => { location.hash = runsLink(expId, st, { viewType: ev.target.value, token: '' }); },
    }, [['ACTIVE_ONLY', 'Active runs'], ['DELETED_ONLY', 'Deleted runs'], ['ALL', 'All runs']].map(([v, l]) =>
      h('option', { value: v, selected: v === st.viewType }, l)));
    const sizeSel = h('select', {
      id: 'page-size', 'data-testid': 'page-size',
      onchange: (ev) => { location.hash = runsLink(expId, st, { size: Number(ev.target.value), token: '' }); },
    }, [...new Set([...PAGE_SIZES, st.size])].sort((a, b) => a - b)
      .map((n) => h('option', { value: String(n), selected: n === st.size }, String(n))));

    // ---- compare bar
    const compareBtn = h('button', {
      type: 'button', id: 'compare-button', 'data-testid': 'compare-button',
      onclick: () => {
        if (selection.ids.size < 2) return;
        location.hash = link(['compare'], { runs: [...selection.ids.keys()].join(','), experiment: expId });
      },
    });
    const clearSelBtn = h('button', {
      type: 'button', class: 'secondary', 'data-testid': 'clear-selection',
      onclick: () => {
        selection.ids.clear();
        for (const cb of view().querySelectorAll('input.run-select')) cb.checked = false;
        syncSelection();
      },
    }, 'Clear selection');
    const syncSelection = () => {
      const n = selection.ids.size;
      compareBtn.textContent = 'Compare selected (' + n + ')';
      compareBtn.disabled = n < 2;
      clearSelBtn.hidden = n === 0;
      const all = view().querySelector('#select-all');
      if (all) {
        const boxes = [...view().querySelectorAll('input.run-select')];
        const checked = boxes.filter((b) => b.checked).length;
        all.checked = boxes.length > 0 && checked === boxes.length;
        all.indeterminate = checked > 0 && checked < boxes.length;
      }
    };

    // ---- table
    let tableOrEmpty;
    if (searchError) {
      tableOrEmpty = h('p', { class: 'empty' }, 'No runs shown: the server rejected the search.');
    } else if (runs.length === 0) {
      tableOrEmpty = h('p', { class: 'empty', 'data-testid': 'runs-empty' },
        st.filter ? 'No runs match this filter.' : 'No runs in this experiment yet.');
    } else {
      const head1 = h('tr', {},
        h('td', { colspan: '5', class: 'group-blank' }),
        mKeys.length ? h('th', { scope: 'colgroup', colspan: String(mKeys.length), class: 'group group-metrics' }, 'Metrics') : null,
        pKeys.length ? h('th', { scope: 'colgroup', colspan: String(pKeys.length), class: 'group group-params' }, 'Parameters') : null);
      const head2 = h('tr', {},
        h('th', { scope: 'col', class: 'sel' },
          h('input', {
            type: 'checkbox', id: 'select-all', 'aria-label': 'Select all runs on this page',
            onchange: (ev) => {
              for (const cb of view().querySelectorAll('input.run-select')) {
                cb.checked = ev.target.checked;
                if (cb.checked) selection.ids.set(cb.dataset.runId, cb.dataset.runName);
                else selection.ids.delete(cb.dataset.runId);
              }
              syncSelection();
            },
          })),
        sortHeader('Run', 'attributes.run_name'),
        sortHeader('Created', 'attributes.start_time'),
        h('th', { scope: 'col' }, 'Duration'),
        sortHeader('Status', 'attributes.status'),
        mKeys.map((k) => sortHeader(k, entityKey('metrics', k), 'num metric')),
        pKeys.map((k) => sortHeader(k, entityKey('params', k), 'param')));
      const rows = runs.map((r) => {
        const info = r.info || {};
        const id = info.run_id || info.run_uuid;
        const name = runName(r);
        const ms = kv(r.data && r.data.metrics);
        const ps = kv(r.data && r.data.params);
        return h('tr', { 'data-run-id': id, 'data-testid': 'run-row', class: info.lifecycle_stage === 'deleted' ? 'deleted' : null },
          h('td', { class: 'sel' }, h('input', {
            type: 'checkbox', class: 'run-select', 'data-run-id': id, 'data-run-name': name,
            'data-testid': 'run-select', 'aria-label': 'Select run ' + name, checked: selection.ids.has(id),
            onchange: (ev) => {
              if (ev.target.checked) selection.ids.set(id, name);
              else selection.ids.delete(id);
              syncSelection();
            },
          })),
          h('td', { 'data-col': 'attributes.run_name' },
            h('a', { href: link(['runs', id]), 'data-testid': 'run-link' }, name),
            h('span', { class: 'sub mono' }, shortId(id))),
          h('td', { 'data-col': 'attributes.start_time' }, fmtTime(info.start_time)),
          h('td', {}, fmtDuration(info.start_time, info.end_time)),
          h('td', { 'data-col': 'attributes.status' }, statusBadge(info.status)),
          mKeys.map((k) => {
            const m = ms.get(k);
            return h('td', {
              class: 'num', 'data-col': entityKey('metrics', k),
              'data-value': m ? String(m.value) : null, title: m ? String(m.value) : null,
            }, m ? fmtNum(m.value) : '—');
          }),
          pKeys.map((k) => {
            const p = ps.get(k);
            return h('td', { class: 'param', 'data-col': entityKey('params', k), title: p ? p.value : null },
              p ? p.value : '—');
          }));
      });
      tableOrEmpty = h('div', { class: 'table-wrap' },
        h('table', { class: 'grid runs', id: 'runs-table', 'data-testid': 'runs-table' },
          h('caption', { class: 'sr-only' }, 'Runs of ' + exp.name + (order ? ', sorted by ' + order.key + ' ' + order.dir : '')),
          h('thead', {}, head1, head2),
          h('tbody', {}, rows)));
    }

    // ---- pagination
    const pageNo = paging.trail.length;
    const prevToken = pageNo > 1 ? paging.trail[pageNo - 2] : null;
    const pager = h('nav', { class: 'pager', 'aria-label': 'Pages of runs', 'data-testid': 'pager' },
      h('button', {
        type: 'button', class: 'secondary', id: 'page-prev', 'data-testid': 'page-prev', disabled: prevToken === null,
        onclick: () => { location.hash = runsLink(expId, st, { token: prevToken }); },
      }, '← Previous'),
      h('span', { 'data-testid': 'page-number' }, 'Page ' + pageNo),
      h('button', {
        type: 'button', class: 'secondary', id: 'page-next', 'data-testid': 'page-next', disabled: !nextToken,
        onclick: () => { location.hash = runsLink(expId, st, { token: nextToken }); },
      }, 'Next →'));

    render(ctx, exp.name, [
      h('div', { class: 'page-head' },
        h('h1', { tabindex: '-1', 'data-testid': 'experiment-name' }, exp.name),
        h('span', { class: 'sub mono' }, 'experiment ' + exp.experiment_id)),
      form,
      help,
      searchError ? errorBox(searchError, 'filter-error') : null,
      h('div', { class: 'toolbar' },
        h('div', { class: 'toolbar-left' }, compareBtn, clearSelBtn),
        h('div', { class: 'toolbar-right' },
          h('label', { for: 'run-view-type' }, 'Show '), viewSel,
          h('label', { for: 'page-size' }, ' Per page '), sizeSel)),
      tableOrEmpty,
      pager,
    ]);
    syncSelection();
  }

  function statusBadge(status) {
    const s = status || 'UNKNOWN';
    return h('span', { class: 'badge status-' + s.toLowerCase(), 'data-testid': 'run-status' }, s);
  }

  /* ---------------------------------------------------------------- */
  /* Charts (inline SVG)                                               */
  /* ---------------------------------------------------------------- */

  /* "Nice" tick values covering [lo, hi]: steps of 1, 2 or 5 x 10^k. */
  function niceTicks(lo, hi, want, integer) {
    if (!(hi > lo)) {
      const d = lo === 0 ? 1 : Math.abs(lo) * 0.01;
      lo -= d;
      hi += d;
    }
    const raw = (hi - lo) / Math.max(1, want);
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    let step = mag;
    for (const m of [1, 2, 5, 10]) {
      step = m * mag;
      if (step >= raw) break;
    }
    if (integer) step = Math.max(1, Math.round(step));
    const start = Math.floor(lo / step) * step;
    const end = Math.ceil(hi / step) * step;
    const ticks = [];
    for (let v = start, i = 0; v <= end + step * 1e-9 && i < 100; v = start + step * ++i) {
      ticks.push(Number(v.toPrecision(12)));
    }
    return { lo: start, hi: end, ticks };
  }

  function fmtTick(v) {
    const a = Math.abs(v);
    if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(1);
    return String(Number(v.toPrecision(6)));
  }

  /* series: [{label, color, points: [{step, value, timestamp}]}]. The
   * x axis is the step, the y axis the value. */
  function lineChart(title, series, testid) {
    const W = 640, H = 300;
    const M = { l: 64, r: 16, t: 16, b: 44 };
    const all = series.flatMap((s) => s.points);
    const n = all.length;
    const root = svg('svg', {
      class: 'chart', viewBox: '0 0 ' + W + ' ' + H, width: W, height: H, role: 'img',
      'data-testid': testid, 'data-points': String(n), 'data-series': String(series.length),
      preserveAspectRatio: 'xMidYMid meet',
    });
    const xs = all.map((p) => p.step);
    const ys = all.map((p) => p.value);
    const xt = niceTicks(n ? Math.min(...xs) : 0, n ? Math.max(...xs) : 1, 6, true);
    const yt = niceTicks(n ? Math.min(...ys) : 0, n ? Math.max(...ys) : 1, 5, false);
    const x = (v) => M.l + (v - xt.lo) / (xt.hi - xt.lo) * (W - M.l - M.r);
    const y = (v) => H - M.b - (v - yt.lo) / (yt.hi - yt.lo) * (H - M.t - M.b);
    const desc = n === 0 ? 'no points' :
      n + ' points, steps ' + Math.min(...xs) + ' to ' + Math.max(...xs) +
      ', values ' + fmtNum(Math.min(...ys)) + ' to ' + fmtNum(Math.max(...ys));
    root.setAttribute('aria-label', 'Line chart of ' + title + ' by step: ' + desc);
    append(root, [svg('title', {}, title + ' by step'), svg('desc', {}, desc)]);

    const grid = svg('g', { class: 'grid-lines' });
    const axes = svg('g', { class: 'axes' });
    for (const t of yt.ticks) {
      grid.appendChild(svg('line', { x1: M.l, x2: W - M.r, y1: y(t), y2: y(t) }));
      axes.appendChild(svg('text', { class: 'tick tick-y', x: M.l - 6, y: y(t), 'text-anchor': 'end', 'dominant-baseline': 'middle' }, fmtTick(t)));
    }
    for (const t of xt.ticks) {
      axes.appendChild(svg('line', { class: 'tick-mark', x1: x(t), x2: x(t), y1: H - M.b, y2: H - M.b + 5 }));
      axes.appendChild(svg('text', { class: 'tick tick-x', x: x(t), y: H - M.b + 18, 'text-anchor': 'middle' }, fmtTick(t)));
    }
    axes.appendChild(svg('line', { class: 'axis', x1: M.l, x2: W - M.r, y1: H - M.b, y2: H - M.b }));
    axes.appendChild(svg('line', { class: 'axis', x1: M.l, x2: M.l, y1: M.t, y2: H - M.b }));
    axes.appendChild(svg('text', { class: 'axis-label', x: M.l + (W - M.l - M.r) / 2, y: H - 6, 'text-anchor': 'middle' }, 'step'));
    axes.appendChild(svg('text', {
      class: 'axis-label', x: 14, y: M.t + (H - M.t - M.b) / 2, 'text-anchor': 'middle',
      transform: 'rotate(-90 14 ' + (M.t + (H - M.t - M.b) / 2) + ')',
    }, title));
    root.appendChild(grid);
    root.appendChild(axes);

    const drawDots = n <= 2000;
    series.forEach((s, i) => {
      const g = svg('g', { class: 'series', 'data-series-index': String(i), 'data-run-id': s.runId || null, 'data-points': String(s.points.length) });
      if (s.points.length > 1) {
        const d = s.points.map((p, j) => (j ? 'L' : 'M') + x(p.step).toFixed(2) + ' ' + y(p.value).toFixed(2)).join(' ');
        g.appendChild(svg('path', { class: 'line', d, fill: 'none', stroke: s.color, 'stroke-width': '2' }));
      }
      if (drawDots || s.points.length === 1) {
        for (const p of s.points) {
          g.appendChild(svg('circle', { class: 'pt', cx: x(p.step).toFixed(2), cy: y(p.value).toFixed(2), r: '3', fill: s.color },
            svg('title', {}, (s.label ? s.label + ': ' : '') + 'step ' + p.step + ', ' + p.value)));
        }
      }
      root.appendChild(g);
    });
    return root;
  }

  function chartFigure(key, series, testid, legend) {
    return h('figure', { class: 'chart-box', 'data-testid': 'chart-box', 'data-metric': key },
      h('figcaption', {}, key),
      lineChart(key, series, testid),
      legend ? h('ul', { class: 'legend' }, series.map((s) =>
        h('li', {}, svg('svg', { width: '14', height: '14', 'aria-hidden': 'true' },
          svg('rect', { width: '14', height: '14', rx: '3', fill: s.color })), ' ', s.label))) : null);
  }

  /* ---------------------------------------------------------------- */
  /* Run page                                                          */
  /* ---------------------------------------------------------------- */

  /* The path under the server's artifact root for an mlflow-artifacts:
   * URI ("mlflow-artifacts:/1/<run>/artifacts" or with a //host part);
   * null when the run's artifacts are not served by this server. */
  function artifactRootPath(uri) {
    const m = /^mlflow-artifacts:(.*)$/.exec(uri || '');
    if (!m) return null;
    let rest = m[1];
    if (rest.startsWith('//')) {
      const i = rest.indexOf('/', 2);
      rest = i < 0 ? '' : rest.slice(i);
    }
    return rest.replace(/^\/+/, '').replace(/\/+$/, '');
  }

  function artifactHref(root, path) {
    return ARTIFACTS + (root ? root + '/' : '') + path.split('/').filter(Boolean).map(encodeURIComponent).join('/');
  }

  function kvTable(rows, testid, caption, valueClass) {
    if (rows.length === 0) return h('p', { class: 'empty', 'data-testid': testid + '-empty' }, 'None.');
    return h('div', { class: 'table-wrap' },
      h('table', { class: 'grid kv', 'data-testid': testid },
        h('caption', { class: 'sr-only' }, caption),
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Key'), h('th', { scope: 'col' }, 'Value'))),
        h('tbody', {}, rows.map((r) => h('tr', { 'data-key': r.key, class: r.cls || null },
          h('th', { scope: 'row' }, r.key), h('td', { class: valueClass || null }, r.value))))));
  }

  async function viewRun(ctx, runId) {
    const { run } = await api('GET', 'runs/get', { run_id: runId });
    const info = run.info || {};
    const data = run.data || {};
    let exp = null;
    try {
      exp = await getExperiment(info.experiment_id);
    } catch (e) {
      exp = { experiment_id: info.experiment_id, name: 'Experiment ' + info.experiment_id };
    }
    const name = runName(run);
    setCrumbs([{ label: 'Experiments', href: '#/' },
      { label: exp.name, href: link(['experiments', info.experiment_id]) }, { label: name }]);

    const metrics = (data.metrics || []).slice().sort((a, b) => a.key.localeCompare(b.key));
    const params = (data.params || []).slice().sort((a, b) => a.key.localeCompare(b.key));
    const tags = (data.tags || []).slice().sort((a, b) =>
      (a.key.startsWith('mlflow.') - b.key.startsWith('mlflow.')) || a.key.localeCompare(b.key));

    const overview = h('dl', { class: 'overview', 'data-testid': 'run-info' },
      [['Run ID', h('span', { class: 'mono', 'data-testid': 'run-id' }, info.run_id)],
        ['Experiment', h('a', { href: link(['experiments', info.experiment_id]) }, exp.name + ' (' + info.experiment_id + ')')],
        ['Status', statusBadge(info.status)],
        ['Started', fmtTime(info.start_time)],
        ['Ended', fmtTime(info.end_time)],
        ['Duration', fmtDuration(info.start_time, info.end_time)],
        ['User', info.user_id || '—'],
        ['Lifecycle', info.lifecycle_stage || '—'],
        ['Artifact URI', h('span', { class: 'mono' }, info.artifact_uri || '—'), 'wide']]
        .map(([k, v, cls]) => h('div', { class: cls || null }, h('dt', {}, k), h('dd', {}, v))));

    const metricsTable = metrics.length === 0
      ? h('p', { class: 'empty', 'data-testid': 'metrics-empty' }, 'No metrics.')
      : h('div', { class: 'table-wrap' }, h('table', { class: 'grid', 'data-testid': 'metrics-table' },
        h('caption', { class: 'sr-only' }, 'Latest value of each metric'),
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Metric'), h('th', { scope: 'col', class: 'num' }, 'Latest value'),
          h('th', { scope: 'col', class: 'num' }, 'Step'), h('th', { scope: 'col' }, 'Logged'))),
        h('tbody', {}, metrics.map((m) => h('tr', { 'data-key': m.key },
          h('th', { scope: 'row' }, m.key),
          h('td', { class: 'num', 'data-value': String(m.value), title: String(m.value) }, fmtNum(m.value)),
          h('td', { class: 'num' }, String(m.step || 0)),
          h('td', {}, fmtTime(m.timestamp)))))));

    const charts = h('div', { class: 'charts', 'data-testid': 'run-charts' });
    const artifacts = h('div', { class: 'artifacts', 'data-testid': 'artifacts' });
    let registered = [];
    try {
      registered = (await hamfApi('run-models', { run_id: info.run_id })).model_versions || [];
    } catch (e) {
      registered = [];
    }
    if (registered.length) {
      overview.appendChild(h('div', { class: 'wide' }, h('dt', {}, 'Registered'),
        h('dd', { 'data-testid': 'run-registered' }, registered.map((v, i) => h('span', {}, i ? '; ' : '',
          'registered as ', h('a', { href: link(['models', v.name, 'versions', v.version]) }, v.name + ' version ' + v.version))))));
    }
    // hamf logs mean |SHAP| per feature as shap_importance.svg (shown when present)
    const shap = h('section', { 'aria-labelledby': 'sec-shap', hidden: '', 'data-testid': 'shap-section' },
      h('h2', { id: 'sec-shap' }, 'Feature importance (mean |SHAP|)'));

    render(ctx, name, [
      h('div', { class: 'page-head' },
        h('h1', { tabindex: '-1', 'data-testid': 'run-name' }, name), statusBadge(info.status)),
      h('section', { 'aria-labelledby': 'sec-info' }, h('h2', { id: 'sec-info' }, 'Overview'), overview),
      h('section', { 'aria-labelledby': 'sec-metrics' }, h('h2', { id: 'sec-metrics' }, 'Metrics'), metricsTable, charts),
      h('section', { 'aria-labelledby': 'sec-params' }, h('h2', { id: 'sec-params' }, 'Parameters'),
        kvTable(params.map((p) => ({ key: p.key, value: p.value })), 'params-table', 'Parameters', 'mono')),
      h('section', { 'aria-labelledby': 'sec-tags' }, h('h2', { id: 'sec-tags' }, 'Tags'),
        kvTable(tags.map((t) => ({ key: t.key, value: t.value, cls: t.key.startsWith('mlflow.') ? 'sys' : null })), 'tags-table', 'Tags')),
      shap,
      h('section', { 'aria-labelledby': 'sec-artifacts' }, h('h2', { id: 'sec-artifacts' }, 'Artifacts'), artifacts),
    ]);

    // Charts and the artifact listing load after the page is shown.
    const histories = await Promise.all(metrics.map(async (m) => {
      try {
        return { key: m.key, points: await metricHistory(info.run_id, m.key) };
      } catch (err) {
        return { key: m.key, error: err };
      }
    }));
    if (!ctx.alive()) return;
    for (const hst of histories) {
      if (hst.error) {
        charts.appendChild(errorBox(hst.error, 'chart-error'));
        continue;
      }
      charts.appendChild(chartFigure(hst.key, [{ label: name, color: SERIES_COLORS[0], points: hst.points, runId: info.run_id }],
        'chart-' + hst.key, false));
    }
    await showArtifacts(ctx, artifacts, info, '');
    await showShap(ctx, shap, info);
  }

  async function showShap(ctx, box, info) {
    const root = artifactRootPath(info.artifact_uri);
    if (root === null) return;
    let files;
    try {
      files = await apiAll('GET', 'artifacts/list', { run_id: info.run_id }, 'files');
    } catch (err) {
      return; // the artifact section shows the error
    }
    if (!ctx.alive() || !files.some((f) => f.path === 'shap_importance.json')) return;
    let doc;
    try {
      const resp = await fetch(artifactHref(root, 'shap_importance.json'));
      if (!resp.ok) return;
      doc = JSON.parse(await resp.text());
    } catch (err) {
      return;
    }
    const feats = Array.isArray(doc.features) ? doc.features.filter((f) => typeof f.feature === 'string' &&
      typeof f.mean_abs_shap === 'number' && isFinite(f.mean_abs_shap)) : [];
    if (!ctx.alive() || feats.length === 0) return;
    // drawn here from the JSON (the logged .svg file is for download)
    const W = 640, L = 170, BH = 18, GAP = 6, TOP = 8;
    const H = TOP + feats.length * (BH + GAP);
    const max = Math.max(...feats.map((f) => f.mean_abs_shap)) || 1;
    const chart = svg('svg', { class: 'shap-chart', width: String(W), height: String(H), viewBox: `0 0 ${W} ${H}`,
      role: 'img', 'aria-label': 'Mean |SHAP| per feature', 'data-testid': 'shap-importance' },
    feats.map((f, i) => {
      const y = TOP + i * (BH + GAP);
      const w = Math.round(f.mean_abs_shap / max * (W - L - 90));
      return svg('g', { class: 'bar', 'data-feature': f.feature, 'data-value': String(f.mean_abs_shap) },
        svg('text', { x: String(L - 8), y: String(y + BH - 5), 'text-anchor': 'end' }, f.feature),
        svg('rect', { x: String(L), y: String(y), width: String(w), height: String(BH), fill: SERIES_COLORS[0] },
          svg('title', {}, f.feature + ': ' + f.mean_abs_shap)),
        svg('text', { x: String(L + w + 6), y: String(y + BH - 5) }, fmtNum(f.mean_abs_shap)));
    }));
    box.appendChild(h('figure', { class: 'shap' }, chart,
      h('figcaption', {}, 'Exact TreeSHAP (' + (doc.units || '') + ') on ' + (doc.rows || 0) + ' held-out rows; ',
        h('a', { href: artifactHref(root, 'shap_importance.svg') }, 'SVG'), ', ',
        h('a', { href: artifactHref(root, 'shap_importance.json') }, 'JSON'), '.')));
    box.hidden = false;
  }


  /* Small folder / file glyphs drawn in SVG (no icon font, no emoji font
   * needed). Decorative: hidden from assistive technology. */
  function icon(kind) {
    const d = kind === 'dir'
      ? 'M1.5 3.5h4l1.5 1.5h7.5v8.5h-13z'
      : 'M3.5 1.5h6l3 3v10h-9z M9.5 1.5v3h3';
    return svg('svg', { class: 'icon', width: '16', height: '16', viewBox: '0 0 16 16', 'aria-hidden': 'true' },
      svg('path', { d, fill: 'none', stroke: 'currentColor', 'stroke-width': '1.2', 'stroke-linejoin': 'round' }));
  }

  async function showArtifacts(ctx, box, info, dir) {
    let files;
    try {
      files = await apiAll('GET', 'artifacts/list', { run_id: info.run_id, path: dir || undefined }, 'files');
    } catch (err) {
      if (!ctx.alive()) return;
      clear(box).appendChild(errorBox(err, 'artifacts-error'));
      return;
    }
    if (!ctx.alive()) return;
    const root = artifactRootPath(info.artifact_uri);
    const full = (p) => (dir && !p.startsWith(dir + '/') ? dir + '/' + p : p);
    const base = (p) => p.split('/').filter(Boolean).pop() || p;
    files = files.map((f) => Object.assign({}, f, { full: full(f.path) }))
      .sort((a, b) => (b.is_dir - a.is_dir) || a.full.localeCompare(b.full));

    const go = (d) => { showArtifacts(ctx, box, info, d); };
    const segs = dir ? dir.split('/') : [];
    const crumbs = h('nav', { class: 'art-path', 'aria-label': 'Artifact folder', 'data-testid': 'artifact-path' },
      h('button', { type: 'button', class: 'linklike', onclick: () => go('') }, 'artifacts'),
      segs.map((s, i) => [' / ', i === segs.length - 1
        ? h('span', { 'aria-current': 'location' }, s)
        : h('button', { type: 'button', class: 'linklike', onclick: () => go(segs.slice(0, i + 1).join('/')) }, s)]));

    let listing;
    if (files.length === 0) {
      listing = h('p', { class: 'empty', 'data-testid': 'artifacts-empty' }, dir ? 'This folder is empty.' : 'No artifacts.');
    } else {
      listing = h('ul', { class: 'files', 'data-testid': 'artifact-list' },
        dir ? h('li', {}, h('button', {
          type: 'button', class: 'linklike', 'data-testid': 'artifact-up',
          onclick: () => go(segs.slice(0, -1).join('/')),
        }, '↑ ..')) : null,
        files.map((f) => h('li', { 'data-path': f.full, class: f.is_dir ? 'dir' : 'file' },
          f.is_dir
            ? h('button', { type: 'button', class: 'linklike', 'data-testid': 'artifact-dir', onclick: () => go(f.full) },
              icon('dir'), base(f.full) + '/')
            : root !== null
              ? h('a', { href: artifactHref(root, f.full), download: base(f.full), 'data-testid': 'artifact-file' },
                icon('file'), base(f.full))
              : h('span', { 'data-testid': 'artifact-file', title: 'Not served by this server' }, icon('file'), base(f.full)),
          f.is_dir ? null : h('span', { class: 'sub' }, fmtBytes(f.file_size)))));
    }
    clear(box);
    append(box, [crumbs, listing, root === null
      ? h('p', { class: 'note' }, 'This run\'s artifacts are not stored on this server (' + (info.artifact_uri || 'no URI') + '): listing only.')
      : null]);
    box.dataset.path = dir;
  }

  /* ---------------------------------------------------------------- */
  /* Compare                                                           */
  /* ---------------------------------------------------------------- */

  async function viewCompare(ctx, query) {
    const ids = [...new Set((query.get('runs') || '').split(',').map((s) => s.trim()).filter(Boolean))];
    if (ids.length < 2) throw new Error('Select at least two runs to compare (#/compare?runs=ID,ID).');
    const results = await Promise.allSettled(ids.map((id) => api('GET', 'runs/get', { run_id: id })));
    const failed = results.map((r, i) => (r.status === 'rejected' ? { id: ids[i], err: r.reason } : null)).filter(Boolean);
    const runs = results.filter((r) => r.status === 'fulfilled').map((r) => r.value.run);
    const expId = query.get('experiment') || (runs[0] && runs[0].info.experiment_id);
    let exp = null;
    if (expId) {
      try {
        exp = await getExperiment(expId);
      } catch (e) {
        exp = null;
      }
    }
    setCrumbs([{ label: 'Experiments', href: '#/' },
      exp ? { label: exp.name, href: link(['experiments', exp.experiment_id]) } : null,
      { label: 'Compare ' + runs.length + ' runs' }].filter(Boolean));

    const names = runs.map(runName);
    const colors = runs.map((_, i) => SERIES_COLORS[i % SERIES_COLORS.length]);
    const metricMaps = runs.map((r) => kv(r.data && r.data.metrics));
    const paramMaps = runs.map((r) => kv(r.data && r.data.params));
    const keysOf = (maps) => [...new Set(maps.flatMap((m) => [...m.keys()]))].sort();
    const mKeys = keysOf(metricMaps);
    const pKeys = keysOf(paramMaps);

    // One row: label + one cell per run; differing values are marked.
    const row = (section, key, values, display) => {
      const differs = new Set(values.map((v) => (v === undefined ? '\u0000missing' : String(v)))).size > 1;
      return h('tr', { class: differs ? 'diff' : 'same', 'data-diff': differs ? 'true' : 'false', 'data-key': section + '.' + key },
        h('th', { scope: 'row' }, key, differs ? h('span', { class: 'diff-mark' }, ' differs') : null),
        values.map((v, i) => h('td', { title: v === undefined ? null : String(v) }, display(v, i))));
    };
    const sectionHead = (label) => h('tr', { class: 'section' }, h('th', { scope: 'rowgroup', colspan: String(runs.length + 1) }, label));
    const onlyDiff = h('input', {
      type: 'checkbox', id: 'only-diff', 'data-testid': 'only-diff',
      onchange: (ev) => table.classList.toggle('only-diff', ev.target.checked),
    });
    const table = h('table', { class: 'grid compare', id: 'compare-table', 'data-testid': 'compare-table' },
      h('caption', { class: 'sr-only' }, 'Runs side by side; rows whose values differ are marked "differs"'),
      h('thead', {}, h('tr', {}, h('td', {}),
        runs.map((r, i) => h('th', { scope: 'col', 'data-run-id': r.info.run_id },
          h('span', { class: 'swatch', 'aria-hidden': 'true' }, svg('svg', { width: '12', height: '12' }, svg('rect', { width: '12', height: '12', rx: '2', fill: colors[i] }))),
          ' ', h('a', { href: link(['runs', r.info.run_id]) }, names[i]),
          h('span', { class: 'sub mono' }, shortId(r.info.run_id)))))),
      h('tbody', { 'data-section': 'run' }, sectionHead('Run'),
        row('attributes', 'status', runs.map((r) => r.info.status), (v) => statusBadge(v)),
        row('attributes', 'start_time', runs.map((r) => r.info.start_time), (v) => fmtTime(v)),
        row('attributes', 'duration', runs.map((r) => fmtDuration(r.info.start_time, r.info.end_time)), (v) => v),
        row('attributes', 'user_id', runs.map((r) => r.info.user_id), (v) => v || '—')),
      pKeys.length ? h('tbody', { 'data-section': 'params' }, sectionHead('Parameters'),
        pKeys.map((k) => row('params', k, paramMaps.map((m) => (m.has(k) ? m.get(k).value : undefined)), (v) => (v === undefined ? '—' : v)))) : null,
      mKeys.length ? h('tbody', { 'data-section': 'metrics' }, sectionHead('Metrics (latest)'),
        mKeys.map((k) => row('metrics', k, metricMaps.map((m) => (m.has(k) ? m.get(k).value : undefined)), (v) => fmtNum(v)))) : null);

    const charts = h('div', { class: 'charts', 'data-testid': 'compare-charts' });
    render(ctx, 'Compare runs', [
      h('div', { class: 'page-head' }, h('h1', { tabindex: '-1' }, 'Comparing ' + runs.length + ' runs'),
        h('label', { class: 'inline' }, onlyDiff, ' Only rows that differ')),
      failed.map((f) => errorBox({ code: f.err.code, message: 'run ' + f.id + ': ' + f.err.message }, 'compare-error')),
      h('div', { class: 'table-wrap' }, table),
      h('section', { 'aria-labelledby': 'sec-cmp-charts' }, h('h2', { id: 'sec-cmp-charts' }, 'Metric history'), charts),
    ]);

    const perKey = await Promise.all(mKeys.map(async (k) => {
      const series = await Promise.all(runs.map(async (r, i) => {
        if (!metricMaps[i].has(k)) return null;
        try {
          return { label: names[i], color: colors[i], runId: r.info.run_id, points: await metricHistory(r.info.run_id, k) };
        } catch (err) {
          return null;
        }
      }));
      return { key: k, series: series.filter(Boolean) };
    }));
    if (!ctx.alive()) return;
    for (const { key, series } of perKey) {
      charts.appendChild(chartFigure(key, series, 'compare-chart-' + key, true));
    }
  }

  /* ---------------------------------------------------------------- */

  window.addEventListener('hashchange', route);
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', route);
  else route();
})();
