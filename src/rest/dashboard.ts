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
import { DASHBOARD_STYLE } from './dashboard-style.js';
import { DASHBOARD_RENDER } from './dashboard-render.js';
import { DASHBOARD_LIVE } from './dashboard-live.js';

// The style and script are plain ASCII (non-ASCII characters are written as CSS or JS
// escapes), so the hashes in the CSP match whatever the transfer encoding.
const STYLE = DASHBOARD_STYLE;
const SCRIPT = DASHBOARD_RENDER + DASHBOARD_LIVE;

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
