/**
 * Second half of the dashboard's inline script: the status line, the fetch-based SSE reader
 * (with the bearer token) and the reconnect loop. It closes the IIFE dashboard-render.ts opens.
 */
// Plain ASCII only (non-ASCII written as escapes), so the CSP hashes match whatever the transfer encoding.
export const DASHBOARD_LIVE = String.raw`
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
