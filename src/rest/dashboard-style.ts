/** The dashboard's inline style sheet (see dashboard.ts). */
// Plain ASCII only (non-ASCII written as escapes), so the CSP hashes match whatever the transfer encoding.
export const DASHBOARD_STYLE = String.raw`
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
