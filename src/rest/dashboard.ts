/**
 * The node dashboard: one self-contained HTML page (inline CSS and JS, no framework, nothing
 * fetched from elsewhere) that the REST handler serves on `GET /` to browsers.
 *
 * The page loads `v1/state` (`StateJson` of ./types.ts) and then follows `v1/events`, a Server-Sent
 * Events stream of `state` events, read with `fetch` (not `EventSource`) so that it can send
 * `Authorization: Bearer <token>` — the token comes from `?access_token=` in the page's own
 * URL. URLs are relative to the page's path (with a trailing slash ensured), so the handler
 * may be mounted under a prefix such as `/mcc`.
 *
 * Service names, metadata and addresses come from remote peers: the script writes every value
 * with `textContent`, never as markup, and the page runs under the strict policy of
 * {@link dashboardCsp} (scripts and styles allowed only by their sha256 hashes).
 *
 * @packageDocumentation
 */
import { createHash } from 'node:crypto';

// The style and script below are plain ASCII (non-ASCII characters are written as CSS or JS
// escapes), so the hashes in the CSP match whatever the transfer encoding.

const STYLE = String.raw`
:root{--bg:#f4f6f9;--card:#fff;--text:#1c2431;--muted:#667085;--line:#e5e8ee;--soft:#f0f3f7;--accent:#2357d8;
--ok:#0f7b57;--ok-bg:#e3f6ee;--warn:#a15c07;--warn-bg:#fdf1dc;--bad:#b42318;--bad-bg:#fde8e7;--info:#1f4fb8;--info-bg:#e6eefc;
--head:#111a2b;--head-text:#e8edf5;--mono:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono","DejaVu Sans Mono",monospace}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--card:#161b22;--text:#e6edf3;--muted:#8d96a0;--line:#2b323b;--soft:#1f262f;
--accent:#6ea8fe;--ok:#3fb950;--ok-bg:#12301f;--warn:#d29922;--warn-bg:#3a2c0c;--bad:#f85149;--bad-bg:#3d1414;--info:#79a8ff;--info-bg:#142646;--head:#05080d}}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","DejaVu Sans",sans-serif;background:var(--bg);color:var(--text)}
header{background:var(--head);color:var(--head-text);padding:12px 24px;display:flex;flex-wrap:wrap;align-items:center;gap:8px 18px}
.brand{font-weight:700;font-size:15px;letter-spacing:.02em;white-space:nowrap}
.brand span{color:#8fb3ff;font-weight:500}
.idbox{display:flex;align-items:center;gap:10px;min-width:0;flex:1 1 480px}
.idbox .label{font-size:12px;color:#9aa7ba;text-transform:uppercase;letter-spacing:.06em}
#node-id{font-family:var(--mono);font-size:13px;overflow-wrap:anywhere;min-width:0;user-select:all}
button{font:inherit;font-size:12px;color:var(--head-text);background:#25324a;border:1px solid #3a4966;border-radius:6px;padding:3px 10px;cursor:pointer;white-space:nowrap}
button:hover{background:#2f3f5d}
button:focus-visible{outline:2px solid #8fb3ff;outline-offset:2px}
.status{display:flex;align-items:center;gap:8px;font-size:13px;white-space:nowrap}
.dot{width:9px;height:9px;border-radius:50%;background:#98a2b3;flex:none}
.status.live .dot{background:#32d583;box-shadow:0 0 0 3px rgba(50,213,131,.22)}
.status.reconnecting .dot,.status.connecting .dot{background:#fdb022}
.status.error .dot{background:#f97066}
.banner{background:var(--bad-bg);color:var(--bad);border-bottom:1px solid var(--line);padding:8px 24px;font-size:13px}
main{padding:16px 24px 28px;max-width:1480px;margin:0 auto;display:grid;gap:16px}
.cards{display:grid;grid-template-columns:minmax(0,1fr);gap:16px}
@media (min-width:720px){.cards{grid-template-columns:repeat(2,minmax(0,1fr))}.cards .wide{grid-column:span 2}}
@media (min-width:1180px){.cards{grid-template-columns:minmax(0,1fr) minmax(0,1fr) minmax(0,2fr)}.cards .wide{grid-column:auto}}
.grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,560px),1fr));gap:16px;align-items:start}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:14px 16px;min-width:0;box-shadow:0 1px 2px rgba(16,24,40,.04)}
.card h2{font-size:12px;text-transform:uppercase;letter-spacing:.07em;color:var(--muted);margin:0 0 10px;font-weight:650;display:flex;align-items:baseline;gap:8px}
.card h2 .count{font-weight:500;letter-spacing:0;text-transform:none;color:var(--muted);background:var(--soft);border-radius:999px;padding:0 8px}
dl.kv{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:6px 16px;margin:0}
dl.kv dt{color:var(--muted)}
dl.kv dd{margin:0;min-width:0;overflow-wrap:anywhere}
.tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(125px,1fr));gap:14px 18px}
.tile .k{font-size:12px;color:var(--muted)}
.tile .v{font-size:20px;font-weight:650;font-variant-numeric:tabular-nums;line-height:1.25}
.tile .r{font-size:12px;color:var(--muted);font-variant-numeric:tabular-nums}
.scroll{overflow-x:auto;margin:0 -4px}
table{width:100%;border-collapse:collapse;font-size:13px}
th{text-align:left;font-weight:600;color:var(--muted);font-size:12px;border-bottom:1px solid var(--line);padding:6px 8px;white-space:nowrap}
td{padding:6px 8px;border-bottom:1px solid var(--line);vertical-align:baseline}
tbody tr:last-child td{border-bottom:0}
tr.group td{border-top:1px solid var(--line)}
th.num,td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.nowrap{white-space:nowrap}
.mono{font-family:var(--mono);font-size:12px}
.id{display:inline-block;max-width:20ch;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;vertical-align:bottom}
.muted{color:var(--muted)}
tr.empty td{color:var(--muted);text-align:center;padding:16px 8px}
.badge{display:inline-block;padding:0 8px;border-radius:999px;font-size:12px;font-weight:600;line-height:20px;background:var(--soft);color:var(--muted);white-space:nowrap}
.badge.ok{background:var(--ok-bg);color:var(--ok)}
.badge.warn{background:var(--warn-bg);color:var(--warn)}
.badge.bad{background:var(--bad-bg);color:var(--bad)}
.badge.info{background:var(--info-bg);color:var(--info)}
.chip{display:inline-block;font-family:var(--mono);font-size:11px;background:var(--soft);border:1px solid var(--line);border-radius:4px;padding:0 5px;margin:1px 4px 1px 0;max-width:32ch;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;vertical-align:bottom}
.counters{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,260px),1fr));gap:2px 24px;font-size:12px}
.counters div{display:flex;justify-content:space-between;gap:12px;border-bottom:1px dashed var(--line);padding:3px 0;min-width:0}
.counters .ck{font-family:var(--mono);color:var(--muted);overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.counters .cv{font-variant-numeric:tabular-nums}
details summary{cursor:pointer;color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.07em;font-weight:650}
details summary .count{font-weight:500;letter-spacing:0;text-transform:none;background:var(--soft);border-radius:999px;padding:0 8px;margin-left:4px}
details[open] summary{margin-bottom:10px}
.updated{color:#9aa7ba;font-size:12px;margin-left:auto;white-space:nowrap;font-variant-numeric:tabular-nums}
.updated:empty+.status{margin-left:auto}
@media (max-width:640px){.updated{display:none}header{padding:10px 14px}main{padding:12px 12px 28px;gap:12px}.cards,.grid2{gap:12px}.banner{padding:8px 14px}.status{margin-left:0}}
`;

const SCRIPT = String.raw`
(function () {
  'use strict';
  var token = new URLSearchParams(location.search).get('access_token');
  var basePath = location.pathname.endsWith('/') ? location.pathname : location.pathname + '/';
  var base = new URL(basePath, location.origin);
  var MAX_BUFFER = 8 * 1024 * 1024;
  var STALL_MS = 20000;
  var MIN_BACKOFF = 1000;
  var MAX_BACKOFF = 15000;
  var MAX_ROWS = 500;
  var DASH = '\u2014';
  var last = null;
  var previous = null;
  var clockRef = null;
  var rendered = {};

  function $(id) { return document.getElementById(id); }
  function api(path) { return new URL(path, base).toString(); }
  function headers(accept) {
    var h = { Accept: accept };
    if (token) h.Authorization = 'Bearer ' + token;
    return h;
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function num(v) { return typeof v === 'number' && isFinite(v) ? v : null; }
  function fmtInt(v) { v = num(v); return v === null ? DASH : Math.round(v).toLocaleString('en-US'); }
  function fmtMs(v) { v = num(v); return v === null ? DASH : (v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : Math.round(v).toString()) + ' ms'; }
  function fmtBytes(v) {
    v = num(v);
    if (v === null) return DASH;
    var units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    var i = 0;
    while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
    return (i === 0 ? String(Math.round(v)) : v.toFixed(v < 10 ? 2 : 1)) + ' ' + units[i];
  }
  function fmtAge(ms) {
    ms = num(ms);
    if (ms === null) return DASH;
    if (ms < 1500) return 'just now';
    var s = Math.round(ms / 1000);
    if (s < 90) return s + ' s ago';
    var m = Math.round(s / 60);
    if (m < 90) return m + ' min ago';
    return Math.round(m / 60) + ' h ago';
  }
  function fmtDuration(ms) {
    ms = num(ms);
    if (ms === null) return DASH;
    var s = Math.round(ms / 1000);
    if (s < 120) return s + ' s';
    if (s < 7200) return Math.round(s / 60) + ' min';
    return Math.round(s / 3600) + ' h';
  }
  function hostPort(host, port) {
    return (String(host).indexOf(':') >= 0 ? '[' + host + ']' : String(host)) + ':' + port;
  }
  function idSpan(id) {
    var s = el('span', 'mono id', id);
    if (id) s.title = String(id);
    return s;
  }
  function badge(text, kind) { return el('span', 'badge' + (kind ? ' ' + kind : ''), text); }
  function cell(content, cls) {
    var td = el('td', cls);
    if (content instanceof Node) td.appendChild(content);
    else td.textContent = content === undefined || content === null ? DASH : String(content);
    return td;
  }
  function row(cells, cls) {
    var tr = el('tr', cls);
    for (var i = 0; i < cells.length; i++) tr.appendChild(cells[i]);
    return tr;
  }
  function emptyRow(columns, text) {
    var td = el('td', null, text);
    td.colSpan = columns;
    return row([td], 'empty');
  }
  function fill(body, rows, columns) {
    var f = document.createDocumentFragment();
    for (var i = 0; i < rows.length && i < MAX_ROWS; i++) f.appendChild(rows[i]);
    if (rows.length > MAX_ROWS) f.appendChild(emptyRow(columns, 'and ' + (rows.length - MAX_ROWS) + ' more'));
    body.replaceChildren(f);
  }
  function list(items) {
    var f = document.createDocumentFragment();
    for (var i = 0; i < items.length; i++) {
      if (i > 0) f.appendChild(document.createTextNode(' '));
      f.appendChild(items[i]);
    }
    return f;
  }
  function metadataChips(meta) {
    if (meta === null || meta === undefined) return el('span', 'muted', DASH);
    var items = [];
    if (typeof meta === 'object' && !Array.isArray(meta)) {
      var keys = Object.keys(meta);
      if (keys.length === 0) return el('span', 'muted', DASH);
      for (var i = 0; i < keys.length && i < 20; i++) {
        var v = meta[keys[i]];
        var text = keys[i] + '=' + (typeof v === 'string' ? v : JSON.stringify(v));
        var chip = el('span', 'chip', text);
        chip.title = text;
        items.push(chip);
      }
      if (keys.length > 20) items.push(el('span', 'muted', '+' + (keys.length - 20)));
    } else {
      var all = JSON.stringify(meta);
      var c = el('span', 'chip', all);
      c.title = all;
      items.push(c);
    }
    return list(items);
  }
  function setText(id, text) { var e = $(id); if (e) e.textContent = text === undefined || text === null ? DASH : String(text); }
  function setCount(id, n) { setText(id, String(n)); }
  function kv(target, pairs) {
    var f = document.createDocumentFragment();
    for (var i = 0; i < pairs.length; i++) {
      f.appendChild(el('dt', null, pairs[i][0]));
      var dd = el('dd');
      var v = pairs[i][1];
      if (v instanceof Node) dd.appendChild(v); else dd.textContent = v === undefined || v === null ? DASH : String(v);
      if (pairs[i][2]) dd.id = pairs[i][2];
      f.appendChild(dd);
    }
    $(target).replaceChildren(f);
  }
  function changed(key, value) {
    var json = JSON.stringify(value);
    if (rendered[key] === json) return false;
    rendered[key] = json;
    return true;
  }
  function arr(v) { return Array.isArray(v) ? v : []; }

  function renderHeader(node) {
    setText('node-id', node.id);
    document.title = 'mcc-mesh ' + (node.id ? String(node.id).slice(0, 12) : '') + ' \u00b7 dashboard';
  }

  function renderNode(node) {
    var nat = node.nat || {};
    var running = node.running ? badge('running', 'ok') : badge('stopped', 'bad');
    kv('node-kv', [
      ['State', running],
      ['Address', node.address, 'node-address'],
      ['Public address', nat.publicAddress],
      ['Crypto', node.crypto],
      ['Peers', fmtInt(node.peers)]
    ]);
    var mapping = String(nat.mapping || 'unknown');
    var mappingKind = { public: 'ok', consistent: 'info', random: 'warn' }[mapping] || '';
    var reachable = nat.reachable === true ? badge('reachable', 'ok') : nat.reachable === false ? badge('not reachable', 'warn') : badge('not yet known');
    var relays = arr(nat.relays);
    var relayList = relays.length === 0 ? el('span', 'muted', 'none') : list(relays.slice(0, 8).map(function (r) {
      var s = el('span');
      s.appendChild(idSpan(r.id));
      s.appendChild(el('span', 'mono muted', ' @ ' + r.address));
      return s;
    }));
    kv('nat-kv', [
      ['Mapping', badge(mapping, mappingKind), 'nat-mapping'],
      ['Reachable', reachable],
      ['Public address', nat.publicAddress],
      ['DHT mode', badge(String(nat.dht || DASH), nat.dht === 'server' ? 'ok' : 'info')],
      ['Relays', relayList]
    ]);
  }

  function rate(key, stats, now) {
    if (!previous || !previous.stats) return null;
    var dt = (now - previous.at) / 1000;
    var a = num(previous.stats[key]);
    var b = num(stats[key]);
    if (dt <= 0.2 || a === null || b === null || b < a) return null;
    return (b - a) / dt;
  }

  function renderTiles(node) {
    var stats = node.stats || {};
    var rpc = stats.rpc || {};
    var now = performance.now();
    var tiles = [
      ['Peers', fmtInt(node.peers), null],
      ['Datagrams in', fmtInt(stats.datagramsIn), rate('datagramsIn', stats, now), '/s'],
      ['Datagrams out', fmtInt(stats.datagramsOut), rate('datagramsOut', stats, now), '/s'],
      ['Bytes in', fmtBytes(stats.bytesIn), rate('bytesIn', stats, now), 'B/s'],
      ['Bytes out', fmtBytes(stats.bytesOut), rate('bytesOut', stats, now), 'B/s'],
      ['Dropped', fmtInt(stats.droppedTotal), null],
      ['RPCs answered', fmtInt(rpc.answered) + ' / ' + fmtInt(rpc.sent), null],
      ['RPC timeouts', fmtInt(rpc.timeouts), null]
    ];
    var f = document.createDocumentFragment();
    tiles.forEach(function (t) {
      var d = el('div', 'tile');
      d.appendChild(el('div', 'k', t[0]));
      d.appendChild(el('div', 'v', t[1]));
      var r = t.length > 3 ? t[2] : null;
      d.appendChild(el('div', 'r', r === null ? '\u00a0' : (t[3] === 'B/s' ? fmtBytes(r) + '/s' : (r < 10 ? r.toFixed(1) : Math.round(r)) + ' /s')));
      f.appendChild(d);
    });
    $('tiles').replaceChildren(f);
    previous = { at: now, stats: stats };
  }

  function nodeNow(peers) {
    var newest = null;
    peers.forEach(function (p) { var v = num(p.lastSeen); if (v !== null && (newest === null || v > newest)) newest = v; });
    var t = performance.now();
    if (newest !== null && (!clockRef || newest > clockRef.node)) clockRef = { node: newest, client: t };
    return clockRef ? clockRef.node + (t - clockRef.client) : null;
  }

  function renderPeers(peers) {
    var now = nodeNow(peers);
    setCount('peers-count', peers.length);
    var sorted = peers.slice().sort(function (a, b) { return (num(b.lastSeen) || 0) - (num(a.lastSeen) || 0); });
    var bucket = sorted.map(function (p) { return [p.id, p.address, p.rttMs, now === null ? null : Math.round((now - p.lastSeen) / 5000)]; });
    if (!changed('peers', bucket)) return;
    var body = $('peers-body');
    if (sorted.length === 0) return body.replaceChildren(emptyRow(4, 'No peers yet'));
    fill(body, sorted.map(function (p) {
      var age = now === null || num(p.lastSeen) === null ? null : Math.max(0, now - p.lastSeen);
      return row([cell(idSpan(p.id)), cell(p.address, 'mono nowrap'), cell(fmtMs(p.rttMs), 'num'), cell(fmtAge(age), 'num')]);
    }), 4);
  }

  function stateBadge(state) {
    var kind = { published: 'ok', publishing: 'info', retrying: 'warn', withdrawn: 'bad' }[state] || '';
    return badge(String(state), kind);
  }

  function renderServices(services) {
    setCount('services-count', services.length);
    if (!changed('services', services)) return;
    var body = $('services-body');
    if (services.length === 0) return body.replaceChildren(emptyRow(6, 'This node provides no services'));
    fill(body, services.map(function (s) {
      return row([
        cell(s.name, 'mono'),
        cell(stateBadge(s.state)),
        cell(s.target === null || s.target === undefined ? el('span', 'muted', 'in-process handler') : el('span', 'mono', s.target), 'nowrap'),
        cell(metadataChips(s.metadata)),
        cell(fmtDuration(s.ttlMs), 'num'),
        cell(fmtInt(s.stored), 'num')
      ]);
    }), 6);
  }

  function renderLookups(lookups) {
    var sorted = lookups.slice().reverse();
    var total = 0;
    sorted.forEach(function (l) { total += arr(l.providers).length; });
    setText('lookups-count', sorted.length + (sorted.length === 1 ? ' name, ' : ' names, ') + total + (total === 1 ? ' provider' : ' providers'));
    var wall = Date.now();
    var bucket = sorted.map(function (l) { return [l, Math.round((wall - l.at) / 5000)]; });
    if (!changed('lookups', bucket)) return;
    var body = $('lookups-body');
    if (sorted.length === 0) return body.replaceChildren(emptyRow(7, 'No lookups yet'));
    var rows = [];
    sorted.forEach(function (l) {
      var providers = arr(l.providers);
      var when = fmtAge(wall - l.at);
      if (providers.length === 0) {
        var none = el('td', 'muted', 'no providers found');
        none.colSpan = 5;
        rows.push(row([cell(l.name, 'mono'), none, cell(when, 'num')], 'group'));
        return;
      }
      providers.forEach(function (p, i) {
        var addresses = arr(p.addresses);
        rows.push(row([
          i === 0 ? cell(l.name, 'mono') : cell(''),
          cell(idSpan(p.id)),
          cell(addresses.length ? list(addresses.slice(0, 6).map(function (a) { return el('span', 'mono', a); })) : el('span', 'muted', DASH)),
          cell(fmtInt(p.relays), 'num'),
          cell(metadataChips(p.metadata)),
          cell(fmtMs(p.rttMs), 'num'),
          cell(i === 0 ? when : '', 'num')
        ], i === 0 ? 'group' : ''));
      });
    });
    fill(body, rows, 7);
  }

  function renderForwards(forwards) {
    setCount('forwards-count', forwards.length);
    if (!changed('forwards', forwards)) return;
    var body = $('forwards-body');
    if (forwards.length === 0) return body.replaceChildren(emptyRow(4, 'No open forwards'));
    fill(body, forwards.map(function (f) {
      return row([cell(f.name, 'mono'), cell(hostPort(f.host, f.port), 'mono nowrap'), cell(fmtInt(f.connections), 'num'), cell(fmtInt(f.failed), 'num')]);
    }), 4);
  }

  function renderTunnels(tunnels) {
    setCount('tunnels-count', tunnels.length);
    if (!changed('tunnels', tunnels)) return;
    var body = $('tunnels-body');
    if (tunnels.length === 0) return body.replaceChildren(emptyRow(6, 'No open tunnels'));
    fill(body, tunnels.map(function (t) {
      return row([
        cell(idSpan(t.peer)),
        cell(t.address, 'mono nowrap'),
        cell(t.relayed ? badge('relayed', 'warn') : badge('direct', 'ok')),
        cell(fmtMs(t.rttMs), 'num'),
        cell(fmtBytes(t.bytesSent), 'num'),
        cell(fmtBytes(t.bytesReceived), 'num')
      ]);
    }), 6);
  }

  function flatten(value, prefix, out, depth) {
    if (depth > 5 || out.length >= 400) return;
    Object.keys(value).forEach(function (k) {
      var v = value[k];
      var key = prefix ? prefix + '.' + k : k;
      if (typeof v === 'number' || typeof v === 'boolean') out.push([key, v]);
      else if (v && typeof v === 'object' && !Array.isArray(v)) flatten(v, key, out, depth + 1);
    });
  }

  function renderCounters(stats) {
    var entries = [];
    if (stats && typeof stats === 'object') flatten(stats, '', entries, 0);
    setCount('counters-count', entries.length);
    if (!changed('counters', entries)) return;
    var f = document.createDocumentFragment();
    entries.forEach(function (e) {
      var d = el('div');
      var k = el('span', 'ck', e[0]);
      k.title = e[0];
      d.appendChild(k);
      d.appendChild(el('span', 'cv', typeof e[1] === 'number' ? fmtInt(e[1]) : String(e[1])));
      f.appendChild(d);
    });
    $('counters').replaceChildren(f);
  }

  function render(state) {
    if (!state || typeof state !== 'object' || !state.node) return;
    last = state;
    var node = state.node;
    renderHeader(node);
    renderNode(node);
    renderTiles(node);
    renderPeers(arr(state.peers));
    renderServices(arr(state.services));
    renderLookups(arr(state.lookups));
    renderForwards(arr(state.forwards));
    renderTunnels(arr(state.tunnels));
    renderCounters(node.stats);
    setText('updated', 'updated ' + new Date().toLocaleTimeString());
  }

  function setStatus(kind, text) {
    var s = $('status');
    s.className = 'status ' + kind;
    setText('status-text', text);
  }
  function showBanner(text) {
    var b = $('banner');
    if (text) { b.textContent = text; b.hidden = false; } else { b.hidden = true; b.textContent = ''; }
  }

  function HttpError(status) { this.status = status; this.message = 'HTTP ' + status; }

  function sseParser(onEvent) {
    var buffer = '';
    var type = '';
    var data = [];
    function line(l) {
      if (l === '') {
        if (data.length) onEvent(type || 'message', data.join('\n'));
        type = '';
        data = [];
        return;
      }
      if (l.charCodeAt(0) === 58) return;
      var c = l.indexOf(':');
      var field = c === -1 ? l : l.slice(0, c);
      var value = c === -1 ? '' : l.slice(c + 1);
      if (value.charCodeAt(0) === 32) value = value.slice(1);
      if (field === 'event') type = value;
      else if (field === 'data') data.push(value);
    }
    return function feed(text) {
      buffer += text;
      for (;;) {
        var i = buffer.search(/[\r\n]/);
        if (i === -1) break;
        if (buffer[i] === '\r' && i === buffer.length - 1) break;
        var width = buffer[i] === '\r' && buffer[i + 1] === '\n' ? 2 : 1;
        line(buffer.slice(0, i));
        buffer = buffer.slice(i + width);
      }
      if (buffer.length > MAX_BUFFER) throw new Error('event too large');
    };
  }

  async function connectOnce() {
    setStatus('connecting', 'connecting\u2026');
    var response = await fetch(api('v1/state'), { headers: headers('application/json'), cache: 'no-store', credentials: 'same-origin' });
    if (!response.ok) throw new HttpError(response.status);
    render(await response.json());
    var controller = new AbortController();
    var stream = await fetch(api('v1/events'), { headers: headers('text/event-stream'), cache: 'no-store', credentials: 'same-origin', signal: controller.signal });
    if (!stream.ok || !stream.body) throw new HttpError(stream.status);
    showBanner(null);
    setStatus('live', 'live');
    var lastData = performance.now();
    var watchdog = setInterval(function () {
      if (performance.now() - lastData > STALL_MS) controller.abort();
    }, 1000);
    var feed = sseParser(function (type, data) {
      if (type !== 'state') return;
      var state;
      try { state = JSON.parse(data); } catch (e) { return; }
      render(state);
      backoff = MIN_BACKOFF;
      setStatus('live', 'live');
    });
    var reader = stream.body.getReader();
    var decoder = new TextDecoder();
    try {
      for (;;) {
        var chunk = await reader.read();
        if (chunk.done) break;
        lastData = performance.now();
        feed(decoder.decode(chunk.value, { stream: true }));
      }
    } finally {
      clearInterval(watchdog);
      controller.abort();
    }
  }

  var backoff = MIN_BACKOFF;
  function sleep(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); }

  async function run() {
    for (;;) {
      try {
        await connectOnce();
      } catch (error) {
        if (error instanceof HttpError && (error.status === 401 || error.status === 403)) {
          showBanner('The node refused the request (HTTP ' + error.status + '). Open this page with ?access_token=<token> in its address.');
          backoff = MAX_BACKOFF;
        } else if (error instanceof HttpError) {
          showBanner('The node answered HTTP ' + error.status + '.');
        }
      }
      var wait = backoff;
      backoff = Math.min(backoff * 2, MAX_BACKOFF);
      for (var left = wait; left > 0; left -= 1000) {
        setStatus('reconnecting', 'reconnecting in ' + Math.ceil(left / 1000) + ' s');
        await sleep(Math.min(1000, left));
      }
    }
  }

  $('copy').addEventListener('click', function () {
    var id = last && last.node && last.node.id;
    var button = $('copy');
    if (!id) return;
    function done(ok) {
      button.textContent = ok ? 'Copied' : 'Select and copy';
      setTimeout(function () { button.textContent = 'Copy'; }, 1500);
    }
    function fallback() {
      var range = document.createRange();
      range.selectNodeContents($('node-id'));
      var selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      var ok = false;
      try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
      done(ok);
    }
    if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(String(id)).then(function () { done(true); }, fallback);
    else fallback();
  });

  run();
})();
`;

const BODY = String.raw`<header>
  <div class="brand">mcc-mesh <span>node</span></div>
  <div class="idbox"><span class="label">ID</span><span id="node-id">&#8212;</span><button id="copy" type="button" title="Copy the node ID">Copy</button></div>
  <span id="updated" class="updated"></span>
  <div id="status" class="status connecting" role="status" aria-live="polite"><span class="dot"></span><span id="status-text">connecting&#8230;</span></div>
</header>
<div id="banner" class="banner" role="alert" hidden></div>
<main>
  <div class="cards">
    <section class="card"><h2>Node</h2><dl class="kv" id="node-kv"></dl></section>
    <section class="card"><h2>NAT</h2><dl class="kv" id="nat-kv"></dl></section>
    <section class="card wide"><h2>Live counters</h2><div class="tiles" id="tiles"></div></section>
  </div>
  <div class="grid2">
    <section class="card" id="peers"><h2>Peers <span class="count" id="peers-count">0</span></h2>
      <div class="scroll"><table><thead><tr><th>Node ID</th><th>Address</th><th class="num">RTT</th><th class="num">Last seen</th></tr></thead><tbody id="peers-body"></tbody></table></div></section>
    <section class="card" id="services"><h2>This node's services <span class="count" id="services-count">0</span></h2>
      <div class="scroll"><table><thead><tr><th>Name</th><th>State</th><th>Target</th><th>Metadata</th><th class="num">TTL</th><th class="num">Stored on</th></tr></thead><tbody id="services-body"></tbody></table></div></section>
  </div>
  <section class="card" id="lookups"><h2>Looked-up providers <span class="count" id="lookups-count">0</span></h2>
    <div class="scroll"><table><thead><tr><th>Service</th><th>Provider</th><th>Addresses</th><th class="num">Relays</th><th>Metadata</th><th class="num">RTT</th><th class="num">Looked up</th></tr></thead><tbody id="lookups-body"></tbody></table></div></section>
  <div class="grid2">
    <section class="card" id="forwards"><h2>Forwards <span class="count" id="forwards-count">0</span></h2>
      <div class="scroll"><table><thead><tr><th>Service</th><th>Listening on</th><th class="num">Connections</th><th class="num">Failed</th></tr></thead><tbody id="forwards-body"></tbody></table></div></section>
    <section class="card" id="tunnels"><h2>Tunnels <span class="count" id="tunnels-count">0</span></h2>
      <div class="scroll"><table><thead><tr><th>Peer</th><th>Address</th><th>Path</th><th class="num">RTT</th><th class="num">Sent</th><th class="num">Received</th></tr></thead><tbody id="tunnels-body"></tbody></table></div></section>
  </div>
  <section class="card"><details><summary>All counters <span class="count" id="counters-count">0</span></summary><div class="counters" id="counters"></div></details></section>
</main>
<noscript><p>This dashboard needs JavaScript; the same data is at v1/state.</p></noscript>`;

function sha256(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="color-scheme" content="light dark">
<title>mcc-mesh dashboard</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>
${BODY}
<script>${SCRIPT}</script>
</body>
</html>
`;

const CSP = [
  "default-src 'none'",
  `script-src ${sha256(SCRIPT)}`,
  `style-src ${sha256(STYLE)}`,
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * The dashboard page: one HTML document with inline CSS and JS. Static — it embeds no node
 * data; the script fetches `v1/state` and follows `v1/events` relative to the page's path.
 * Serve it with `content-type: text/html; charset=utf-8` and `Content-Security-Policy:`
 * {@link dashboardCsp}.
 */
export function dashboardPage(): string {
  return PAGE;
}

/**
 * The Content-Security-Policy to send with {@link dashboardPage}: nothing but the page's own
 * inline script and style (allowed by their sha256 hashes, no `'unsafe-inline'`), fetches to
 * its own origin, and images from its origin or `data:` URLs.
 */
export function dashboardCsp(): string {
  return CSP;
}
