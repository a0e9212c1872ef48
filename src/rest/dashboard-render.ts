/**
 * First half of the dashboard's inline script: formatting and rendering of a `StateJson`
 * into the page, every value through `textContent`. It opens the IIFE that
 * dashboard-live.ts closes; dashboard.ts joins the two.
 */
// Plain ASCII only (non-ASCII written as escapes), so the CSP hashes match whatever the transfer encoding.
export const DASHBOARD_RENDER = String.raw`
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

`;
