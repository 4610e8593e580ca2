/// `GET /`: the operator's dashboard — one self-contained page (inline CSS
/// and script, no external fonts, scripts or images: it works offline and
/// behind any firewall) that reloads `dashboard.json` every 2 seconds.
///
/// It shows the primary (reachability, WAL position, servers), the request
/// rate by route and reason (from the document's server-side totals series,
/// averaged over 5 s, so a freshly opened page has rates at once), per replica
/// a lag chart (`max_lag` and `readmit_below` dashed, their values in the legend,
/// out-of-rotation spans shaded, hover for figures), its rotation state and
/// cause, its servers, a drain/undrain button, and the most recent routing
/// decisions. The charts share one time axis: from the oldest point sent (at
/// least a minute back) to now, at most the document's window.
///
/// With an admin token, open it as `/?token=<token>`; the script sends the
/// token on as an `Authorization: Bearer` header. All data is put in the page
/// with `textContent` / attributes, never parsed as HTML.
enum DashboardPage {
    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; "
        + "img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    static let bytes: [UInt8] = Array(DashboardPage.html.utf8)

    static let html: String = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>Switchyard</title>
<style>
:root {
  --bg: #f4f5f7; --card: #ffffff; --text: #1f2328; --muted: #59636e; --line: #d8dee4; --grid: #eef1f4;
  --green: #1a7f37; --green-bg: #dafbe1; --red: #cf222e; --red-bg: #ffebe9; --amber: #9a6700; --amber-bg: #fff8c5;
  --blue: #0969da; --blue-bg: #ddf4ff; --gray-bg: #eaeef2; --shade: rgba(207, 34, 46, 0.10);
  --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace;
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
header { background: var(--card); border-bottom: 1px solid var(--line); padding: 12px 24px;
  display: flex; align-items: center; gap: 24px; flex-wrap: wrap; position: sticky; top: 0; z-index: 2; }
header h1 { font-size: 18px; margin: 0; font-weight: 600; letter-spacing: .2px; }
header .meta { color: var(--muted); display: flex; gap: 18px; flex-wrap: wrap; }
header .meta b { color: var(--text); font-weight: 600; }
#conn { margin-left: auto; display: flex; align-items: center; gap: 8px; color: var(--muted); }
main { padding: 20px 24px 40px; max-width: 1480px; margin: 0 auto; }
h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .6px; color: var(--muted); margin: 26px 0 10px; font-weight: 600; }
.row { display: grid; grid-template-columns: minmax(320px, 1fr) minmax(320px, 1.4fr); gap: 16px; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(520px, 1fr)); gap: 16px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; min-width: 0; }
.card h3 { margin: 0; font-size: 16px; font-weight: 600; }
.card .head { display: flex; align-items: center; gap: 10px; flex-wrap: wrap; margin-bottom: 8px; }
.card .head .spacer { flex: 1; }
.badge { display: inline-block; padding: 1px 9px; border-radius: 999px; font-size: 12px; font-weight: 600; white-space: nowrap; }
.badge.ok { color: var(--green); background: var(--green-bg); }
.badge.bad { color: var(--red); background: var(--red-bg); }
.badge.warn { color: var(--amber); background: var(--amber-bg); }
.badge.info { color: var(--muted); background: var(--gray-bg); }
.dot { display: inline-block; width: 9px; height: 9px; border-radius: 50%; background: var(--green); flex: none; }
.dot.down { background: var(--red); }
.dot.stale { background: var(--amber); }
.stats { display: flex; gap: 22px; flex-wrap: wrap; margin: 2px 0 8px; }
.stat .label { color: var(--muted); font-size: 12px; }
.stat .value { font-size: 18px; font-weight: 600; font-variant-numeric: tabular-nums; }
.stat .value.mono { font-family: var(--mono); font-size: 15px; padding-top: 3px; }
ul.servers { list-style: none; margin: 8px 0 0; padding: 0; display: flex; flex-direction: column; gap: 4px; }
ul.servers li { display: flex; align-items: center; gap: 8px; font-variant-numeric: tabular-nums; }
ul.servers .addr { font-family: var(--mono); font-size: 13px; }
ul.servers .extra { color: var(--muted); margin-left: auto; font-size: 12px; }
ul.servers .fail { color: var(--red); font-size: 12px; }
svg.chart { width: 100%; height: auto; display: block; }
svg text { font: 11px system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; fill: var(--muted); }
.legend { display: flex; gap: 16px; color: var(--muted); font-size: 12px; margin-top: 2px; flex-wrap: wrap; }
.legend i { display: inline-block; width: 18px; height: 0; border-top: 2px solid; vertical-align: middle; margin-right: 5px; }
.legend i.dash { border-top-style: dashed; }
.legend i.box { height: 10px; border: 0; background: var(--shade); }
.tip { position: fixed; pointer-events: none; background: var(--text); color: #fff; font-size: 12px; padding: 5px 8px;
  border-radius: 5px; white-space: nowrap; z-index: 5; display: none; font-variant-numeric: tabular-nums; }
.bars { display: grid; grid-template-columns: max-content 1fr max-content; gap: 5px 10px; align-items: center; }
.bars .name { font-size: 13px; }
.bars .track { background: var(--grid); height: 8px; border-radius: 4px; overflow: hidden; }
.bars .fill { background: var(--blue); height: 100%; border-radius: 4px; }
.bars .fill.replica { background: var(--green); }
.bars .num { font-variant-numeric: tabular-nums; font-size: 13px; text-align: right; min-width: 70px; }
.traffic { display: grid; grid-template-columns: 1fr 1fr; gap: 18px; }
.sub { color: var(--muted); font-size: 12px; margin-bottom: 6px; }
table { width: 100%; border-collapse: collapse; font-size: 13px; }
th { text-align: left; color: var(--muted); font-weight: 600; font-size: 12px; border-bottom: 1px solid var(--line); padding: 6px 8px; white-space: nowrap; }
td { padding: 5px 8px; border-bottom: 1px solid var(--grid); white-space: nowrap; font-variant-numeric: tabular-nums; }
td.path { font-family: var(--mono); font-size: 12px; max-width: 340px; overflow: hidden; text-overflow: ellipsis; }
td.mono { font-family: var(--mono); font-size: 12px; }
td.num { text-align: right; }
.s2 { color: var(--green); font-weight: 600; } .s3 { color: var(--blue); font-weight: 600; }
.s4 { color: var(--amber); font-weight: 600; } .s5 { color: var(--red); font-weight: 600; }
.muted { color: var(--muted); }
.empty { color: var(--muted); padding: 14px 0; text-align: center; }
button { font: inherit; font-size: 12px; padding: 2px 10px; border: 1px solid var(--line); border-radius: 6px;
  background: var(--card); color: var(--text); cursor: pointer; }
button:hover { background: var(--grid); }
button:disabled { opacity: .5; cursor: default; }
#error { display: none; margin: 0 0 12px; padding: 10px 14px; border: 1px solid var(--red); background: var(--red-bg);
  color: var(--red); border-radius: 8px; }
@media (max-width: 900px) { .row, .traffic { grid-template-columns: 1fr; } .grid { grid-template-columns: 1fr; } }
</style>
</head>
<body>
<header>
  <h1>Switchyard</h1>
  <div class="meta">
    <span>version <b id="version">–</b></span>
    <span>uptime <b id="uptime">–</b></span>
    <span>requests <b id="total-requests">–</b></span>
    <span>rate <b id="total-rate">–</b></span>
  </div>
  <div id="conn"><span class="dot stale" id="conn-dot"></span><span id="conn-text">connecting…</span></div>
</header>
<main>
  <div id="error"></div>
  <div class="row">
    <section>
      <h2>Primary</h2>
      <div class="card" id="primary"><div class="empty">waiting for data…</div></div>
    </section>
    <section>
      <h2>Traffic <span class="muted" style="text-transform:none;letter-spacing:0;font-weight:400">(requests per second, 5 s average)</span></h2>
      <div class="card">
        <div id="rate-chart"></div>
        <div class="traffic">
          <div><div class="sub">by route</div><div class="bars" id="by-route"></div></div>
          <div><div class="sub">by reason</div><div class="bars" id="by-reason"></div></div>
        </div>
      </div>
    </section>
  </div>
  <h2>Replicas <span class="muted" id="window-label" style="text-transform:none;letter-spacing:0;font-weight:400"></span></h2>
  <div class="grid" id="replicas"><div class="card empty">waiting for data…</div></div>
  <h2>Recent decisions</h2>
  <div class="card" style="overflow-x:auto">
    <table>
      <thead><tr><th>time</th><th>method</th><th>path</th><th>route</th><th>reason</th><th>replica</th><th>server</th>
        <th>status</th><th style="text-align:right">ms</th><th>tries</th><th>pin</th><th>client</th></tr></thead>
      <tbody id="decisions"><tr><td colspan="12" class="empty">no decisions yet</td></tr></tbody>
    </table>
  </div>
</main>
<div class="tip" id="tip"></div>
<script>
(function () {
  'use strict';
  var REFRESH_MS = 2000;
  var RATE_AVERAGE_MS = 5000;   // rates: the counters' growth over this long (or the nearest sample before)
  var MIN_SPAN_MS = 60000;      // the time axis spans at least this much, however young the router
  // The admin token: from ?token= (percent-encoded; '+' is a plus), sent on as a header.
  var token = (function () {
    var match = /(?:^|[?&])token=([^&]*)/.exec(window.location.search);
    if (!match) { return null; }
    try { return decodeURIComponent(match[1]); } catch (e) { return null; }
  })();
  // The SVG namespace, taken from the HTML parser rather than spelled out.
  var SVG_NS = (function () {
    var t = document.createElement('template');
    t.innerHTML = '<svg></svg>';
    return t.content.firstChild.namespaceURI;
  })();

  var COLOR = { blue: '#0969da', green: '#1a7f37', red: '#cf222e', amber: '#9a6700', muted: '#59636e',
    line: '#d8dee4', grid: '#eef1f4', shade: 'rgba(207, 34, 46, 0.10)' };
  var lastOk = 0;

  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }
  function svg(tag, attrs, text) {
    var node = document.createElementNS(SVG_NS, tag);
    for (var key in attrs) { if (Object.prototype.hasOwnProperty.call(attrs, key)) { node.setAttribute(key, String(attrs[key])); } }
    if (text !== undefined) { node.textContent = String(text); }
    return node;
  }
  function clear(node) { while (node.firstChild) { node.removeChild(node.firstChild); } }
  function headers() { return token ? { 'Authorization': 'Bearer ' + token } : {}; }

  function fmtSeconds(s) {
    if (s === null || s === undefined) { return '–'; }
    if (s === 0) { return '0 s'; }
    if (s < 1) { return (s * 1000).toFixed(s < 0.01 ? 1 : 0) + ' ms'; }
    if (s < 60) { return s.toFixed(s < 10 ? 2 : 1) + ' s'; }
    return Math.floor(s / 60) + ' m ' + Math.round(s % 60) + ' s';
  }
  function fmtAxisSeconds(s) {
    if (s === 0) { return '0'; }
    if (s < 1) { return Math.round(s * 1000) + 'ms'; }
    return (Math.round(s * 100) / 100) + 's';
  }
  function fmtBytes(b) {
    if (b === null || b === undefined) { return '–'; }
    var units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    var i = 0;
    while (b >= 1024 && i < units.length - 1) { b /= 1024; i += 1; }
    return (i === 0 ? b : b.toFixed(b < 10 ? 1 : 0)) + ' ' + units[i];
  }
  function fmtUptime(s) {
    s = Math.floor(s);
    var d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
    if (d > 0) { return d + 'd ' + h + 'h ' + m + 'm'; }
    if (h > 0) { return h + 'h ' + m + 'm'; }
    if (m > 0) { return m + 'm ' + (s % 60) + 's'; }
    return s + 's';
  }
  function fmtRate(r) {
    if (r === null || r === undefined) { return '–'; }
    return (r >= 100 ? Math.round(r) : r >= 10 ? r.toFixed(1) : r.toFixed(2)) + '/s';
  }
  function pad(n, w) { var s = String(n); while (s.length < w) { s = '0' + s; } return s; }
  function fmtClock(ms, withMillis) {
    var d = new Date(ms);
    var text = pad(d.getHours(), 2) + ':' + pad(d.getMinutes(), 2) + ':' + pad(d.getSeconds(), 2);
    return withMillis ? text + '.' + pad(d.getMilliseconds(), 3) : text;
  }
  function fmtSpan(ms) {
    var s = Math.round(ms / 1000);
    if (s < 120) { return s + ' s'; }
    var m = Math.floor(s / 60), r = s % 60;
    return r === 0 ? m + ' minutes' : m + ' min ' + r + ' s';
  }
  // Tick labels back from now: −20s, −1m, −1m30s.
  function fmtAgo(s) {
    var m = Math.floor(s / 60), r = Math.round(s % 60);
    if (m === 0) { return '−' + r + 's'; }
    return '−' + m + 'm' + (r ? pad(r, 2) + 's' : '');
  }
  // A y scale from 0 to at least v, in at most `divisions` round steps (1, 2, 2.5, 5 × 10^n).
  function niceScale(v, divisions) {
    if (!(v > 0)) { v = 1; }
    var raw = v / divisions;
    var p = Math.pow(10, Math.floor(Math.log10(raw)));
    var steps = [1, 2, 2.5, 5, 10];
    var step = 10 * p;
    for (var i = 0; i < steps.length; i += 1) { if (steps[i] * p >= raw) { step = steps[i] * p; break; } }
    var count = Math.max(1, Math.ceil(v / step - 1e-9));
    return { max: step * count, step: step, count: count };
  }

  function badgeFor(inRotation, cause) {
    if (inRotation) { return el('span', 'badge ok', 'in rotation'); }
    var cls = cause === 'drained' ? 'badge info' : (cause === 'lag' || cause === 'lag-bytes') ? 'badge warn' : 'badge bad';
    return el('span', cls, 'out: ' + (cause || 'unknown'));
  }

  function stat(label, value, mono) {
    var box = el('div', 'stat');
    box.appendChild(el('div', 'label', label));
    box.appendChild(el('div', mono ? 'value mono' : 'value', value));
    return box;
  }

  function serverList(servers) {
    var list = el('ul', 'servers');
    if (!servers || servers.length === 0) { list.appendChild(el('li', 'muted', 'no servers')); return list; }
    servers.forEach(function (s) {
      var item = el('li');
      item.appendChild(el('span', s.up ? 'dot' : 'dot down'));
      item.appendChild(el('span', 'addr', s.address));
      item.appendChild(el('span', s.up ? 'badge ok' : 'badge bad', s.up ? 'up' : 'down'));
      if (s.failures > 0) { item.appendChild(el('span', 'fail', s.failures + (s.failures === 1 ? ' failure' : ' failures'))); }
      item.appendChild(el('span', 'extra', s.active + ' active'));
      list.appendChild(item);
    });
    return list;
  }

  function renderPrimary(primary) {
    var card = $('primary');
    clear(card);
    var head = el('div', 'head');
    head.appendChild(el('h3', null, 'primary'));
    head.appendChild(primary.reachable ? el('span', 'badge ok', 'reachable') : el('span', 'badge bad', 'unreachable'));
    if (primary.in_recovery === true) { head.appendChild(el('span', 'badge bad', 'in recovery')); }
    card.appendChild(head);
    var stats = el('div', 'stats');
    stats.appendChild(stat('current WAL position', primary.current_lsn || '–', true));
    var up = primary.servers.filter(function (s) { return s.up; }).length;
    stats.appendChild(stat('servers up', up + ' / ' + primary.servers.length));
    stats.appendChild(stat('active requests', primary.servers.reduce(function (a, s) { return a + s.active; }, 0)));
    card.appendChild(stats);
    card.appendChild(serverList(primary.servers));
  }

  // The charts' shared time axis: from the oldest point in the document (at least
  // MIN_SPAN_MS back) to the document's time, at most its window.
  function timeAxis(doc) {
    var now = doc.generated_at_ms;
    var windowMs = doc.window_s * 1000;
    var first = now;
    doc.lag.forEach(function (s) { if (s.points.length > 0 && s.points[0][0] < first) { first = s.points[0][0]; } });
    var totals = doc.totals && doc.totals.points;
    if (totals && totals.length > 0 && totals[0][0] < first) { first = totals[0][0]; }
    var span = Math.min(windowMs, Math.max(MIN_SPAN_MS, now - first));
    return { start: now - span, end: now, span: span };
  }

  // X ticks and faint vertical grid lines back from now, at most ~6 of them.
  function timeTicks(root, g, axis, x) {
    var steps = [5, 10, 15, 20, 30, 60, 120, 300, 600, 900, 1800, 3600];
    var spanS = axis.span / 1000;
    var step = steps[steps.length - 1];
    for (var i = 0; i < steps.length; i += 1) { if (spanS / steps[i] <= 6) { step = steps[i]; break; } }
    var bottom = g.H - g.B;
    for (var back = 0; back <= spanS + 0.001; back += step) {
      var px = x(axis.end - back * 1000);
      if (back > 0) { root.appendChild(svg('line', { x1: px, x2: px, y1: g.T, y2: bottom, stroke: COLOR.grid, 'stroke-width': 1 })); }
      root.appendChild(svg('line', { x1: px, x2: px, y1: bottom, y2: bottom + 4, stroke: COLOR.line }));
      var anchor = back === 0 ? 'end' : (px - g.L < 16 ? 'start' : 'middle');
      root.appendChild(svg('text', { x: px, y: bottom + 16, 'text-anchor': anchor }, back === 0 ? 'now' : fmtAgo(back)));
    }
  }

  // Hover over a chart: a cursor on the item nearest in time, its figures in the tip.
  function addHover(root, g, axis, x, items, atOf, describe) {
    var cursor = svg('line', { y1: g.T, y2: g.H - g.B, stroke: COLOR.muted, 'stroke-width': 1, visibility: 'hidden' });
    root.appendChild(cursor);
    var overlay = svg('rect', { x: g.L, y: g.T, width: g.W - g.L - g.R, height: g.H - g.T - g.B, fill: 'transparent' });
    root.appendChild(overlay);
    var tip = $('tip');
    overlay.addEventListener('mousemove', function (event) {
      if (items.length === 0) { return; }
      var box = root.getBoundingClientRect();
      var t = axis.start + ((event.clientX - box.left) * g.W / box.width - g.L) / (g.W - g.L - g.R) * axis.span;
      var best = items[0];
      items.forEach(function (item) { if (Math.abs(atOf(item) - t) < Math.abs(atOf(best) - t)) { best = item; } });
      cursor.setAttribute('x1', x(atOf(best))); cursor.setAttribute('x2', x(atOf(best)));
      cursor.setAttribute('visibility', 'visible');
      tip.textContent = describe(best);
      tip.style.display = 'block';
      tip.style.left = Math.min(event.clientX + 12, window.innerWidth - tip.offsetWidth - 8) + 'px';
      tip.style.top = (event.clientY + 14) + 'px';
    });
    overlay.addEventListener('mouseleave', function () { tip.style.display = 'none'; cursor.setAttribute('visibility', 'hidden'); });
  }

  // Lag chart: lag_s over the shared axis, thresholds dashed, out-of-rotation shaded.
  function lagChart(series, axis) {
    var g = { W: 640, H: 190, L: 46, R: 14, T: 12, B: 24 };
    var W = g.W, H = g.H, L = g.L, R = g.R, T = g.T, B = g.B;
    var start = axis.start, now = axis.end;
    var points = series.points.filter(function (p) { return p[0] >= start; });
    var observed = points.reduce(function (a, p) { return p[1] !== null && p[1] > a ? p[1] : a; }, 0);
    var scale = niceScale(Math.max((series.max_lag || 0) * 1.25, observed * 1.1, 0.05), 5);
    var yMax = scale.max;
    function x(t) { return L + (t - start) / axis.span * (W - L - R); }
    function y(v) { return T + (1 - Math.min(v, yMax) / yMax) * (H - T - B); }
    var root = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, 'class': 'chart', role: 'img',
      'aria-label': 'replay lag of ' + series.name + ' over the last ' + fmtSpan(axis.span) });

    // Out of rotation: shade from each such point to the next point (or now).
    for (var i = 0; i < points.length; i += 1) {
      if (!points[i][3]) {
        var j = i;
        while (j + 1 < points.length && !points[j + 1][3]) { j += 1; }
        var endT = j + 1 < points.length ? points[j + 1][0] : now;
        root.appendChild(svg('rect', { x: x(points[i][0]), y: T, width: Math.max(1, x(endT) - x(points[i][0])),
          height: H - T - B, fill: COLOR.shade }));
        i = j;
      }
    }
    // Grid and labels.
    timeTicks(root, g, axis, x);
    for (var k = 0; k <= scale.count; k += 1) {
      var v = scale.step * k;
      root.appendChild(svg('line', { x1: L, x2: W - R, y1: y(v), y2: y(v), stroke: k === 0 ? COLOR.line : COLOR.grid, 'stroke-width': 1 }));
      root.appendChild(svg('text', { x: L - 6, y: y(v) + 4, 'text-anchor': 'end' }, fmtAxisSeconds(v)));
    }
    // Thresholds: lines only; their names and values are in the legend, so no labels can collide.
    function threshold(value, color) {
      if (!(value > 0) || value > yMax) { return; }
      root.appendChild(svg('line', { x1: L, x2: W - R, y1: y(value), y2: y(value), stroke: color, 'stroke-width': 1.5, 'stroke-dasharray': '6 4' }));
    }
    threshold(series.max_lag, COLOR.red);
    threshold(series.readmit_below, COLOR.amber);
    // The lag line, broken where the lag is unknown.
    var d = '';
    var pen = false;
    points.forEach(function (p) {
      if (p[1] === null) { pen = false; return; }
      d += (pen ? 'L' : 'M') + x(p[0]).toFixed(1) + ' ' + y(p[1]).toFixed(1);
      pen = true;
    });
    if (d) { root.appendChild(svg('path', { d: d, fill: 'none', stroke: COLOR.blue, 'stroke-width': 2, 'stroke-linejoin': 'round' })); }
    var lastKnown = null;
    for (var n = points.length - 1; n >= 0; n -= 1) { if (points[n][1] !== null) { lastKnown = points[n]; break; } }
    if (lastKnown) { root.appendChild(svg('circle', { cx: x(lastKnown[0]), cy: y(lastKnown[1]), r: 3.5, fill: COLOR.blue })); }
    if (points.length === 0) {
      root.appendChild(svg('text', { x: (L + W - R) / 2, y: (T + H - B) / 2, 'text-anchor': 'middle' }, 'no lag data yet'));
    }
    addHover(root, g, axis, x, points, function (p) { return p[0]; }, function (p) {
      return fmtClock(p[0], false) + '  ·  lag ' + fmtSeconds(p[1]) + '  ·  ' + fmtBytes(p[2]) +
        '  ·  ' + (p[3] ? 'in rotation' : 'out of rotation');
    });
    return root;
  }

  function legendItem(kind, color, text) {
    var item = el('span');
    var swatch = el('i', kind);
    if (color) { swatch.style.borderTopColor = color; }
    item.appendChild(swatch);
    item.appendChild(document.createTextNode(text));
    return item;
  }

  function drainButton(name, inRotation, cause) {
    var drained = !inRotation && cause === 'drained';
    var button = el('button', null, drained ? 'Undrain' : 'Drain');
    button.title = drained ? 'Let ' + name + ' back in at its next good poll' : 'Take ' + name + ' out of rotation by hand';
    button.addEventListener('click', function () {
      var action = drained ? 'undrain' : 'drain';
      if (!window.confirm(action.charAt(0).toUpperCase() + action.slice(1) + ' replica ' + name + '?')) { return; }
      button.disabled = true;
      fetch('replicas/' + encodeURIComponent(name) + '/' + action, { method: 'POST', headers: headers(), cache: 'no-store' })
        .then(function (r) { if (!r.ok) { throw new Error(action + ' failed: HTTP ' + r.status); } })
        .catch(function (e) { showError(e.message); })
        .then(function () { refresh(false); });
    });
    return button;
  }

  function renderReplicas(doc, axis) {
    var box = $('replicas');
    clear(box);
    var history = {};
    doc.lag.forEach(function (s) { history[s.name] = s; });
    $('window-label').textContent = '(lag over the last ' + fmtSpan(axis.span) + ')';
    if (doc.status.replicas.length === 0) { box.appendChild(el('div', 'card empty', 'no replicas configured')); return; }
    doc.status.replicas.forEach(function (r) {
      var card = el('div', 'card');
      var head = el('div', 'head');
      head.appendChild(el('h3', null, r.name));
      head.appendChild(badgeFor(r.in_rotation, r.cause));
      head.appendChild(el('span', 'spacer'));
      head.appendChild(drainButton(r.name, r.in_rotation, r.cause));
      card.appendChild(head);
      var stats = el('div', 'stats');
      stats.appendChild(stat('lag', fmtSeconds(r.lag_s)));
      stats.appendChild(stat('bytes behind', fmtBytes(r.lag_bytes)));
      stats.appendChild(stat('replay position', r.replay_lsn || '–', true));
      var up = r.servers.filter(function (s) { return s.up; }).length;
      stats.appendChild(stat('servers up', up + ' / ' + r.servers.length));
      card.appendChild(stats);
      var series = history[r.name] || { name: r.name, points: [], max_lag: null, readmit_below: null, max_lag_bytes: 0 };
      card.appendChild(lagChart(series, axis));
      var legend = el('div', 'legend');
      legend.appendChild(legendItem('', COLOR.blue, 'lag'));
      legend.appendChild(legendItem('dash', COLOR.red, 'max_lag' + (series.max_lag > 0 ? ' ' + fmtSeconds(series.max_lag) : '')));
      legend.appendChild(legendItem('dash', COLOR.amber,
        'readmit_below' + (series.readmit_below > 0 ? ' ' + fmtSeconds(series.readmit_below) : '')));
      legend.appendChild(legendItem('box', '', 'out of rotation'));
      if (series.max_lag_bytes > 0) { legend.appendChild(el('span', null, 'byte limit ' + fmtBytes(series.max_lag_bytes))); }
      card.appendChild(legend);
      card.appendChild(serverList(r.servers));
      box.appendChild(card);
    });
  }

  function bars(container, entries, kind) {
    clear(container);
    var max = entries.reduce(function (a, e) { return e[1] !== null && e[1] > a ? e[1] : a; }, 0);
    entries.forEach(function (e) {
      container.appendChild(el('span', 'name', e[0]));
      var track = el('div', 'track');
      var fill = el('div', kind === 'route' && e[0] === 'replica' ? 'fill replica' : 'fill');
      fill.style.width = (max > 0 && e[1] !== null ? Math.max(1, e[1] / max * 100) : 0) + '%';
      track.appendChild(fill);
      container.appendChild(track);
      container.appendChild(el('span', 'num', fmtRate(e[1])));
    });
  }

  // Rates from the server's totals series (cumulative counts, one sample per second or so):
  // at each sample, the growth since the sample RATE_AVERAGE_MS earlier (at least the one
  // before) over the time between them. [{ at, total, routes: [..], reasons: [..] }]
  function trafficRates(series) {
    var points = series.points;
    var out = [];
    function growth(cur, prev, dt) { return Math.max(0, (cur || 0) - (prev || 0)) / dt; }
    for (var i = 1, j = 0; i < points.length; i += 1) {
      while (j < i - 1 && points[i][0] - points[j][0] > RATE_AVERAGE_MS) { j += 1; }
      var now = points[i], before = points[j];
      var dt = (now[0] - before[0]) / 1000;
      if (!(dt > 0)) { continue; }
      out.push({
        at: now[0],
        total: growth(now[1], before[1], dt),
        routes: now[2].map(function (c, k) { return growth(c, before[2][k], dt); }),
        reasons: now[3].map(function (c, k) { return growth(c, before[3][k], dt); })
      });
    }
    return out;
  }

  function rateChart(rates, routes, axis) {
    var box = $('rate-chart');
    clear(box);
    var g = { W: 640, H: 124, L: 46, R: 14, T: 8, B: 24 };
    var W = g.W, H = g.H, L = g.L, R = g.R, T = g.T, B = g.B;
    var shown = rates.filter(function (s) { return s.at >= axis.start; });
    var lines = [['primary', COLOR.blue], ['replica', COLOR.green]].map(function (l) { return { index: routes.indexOf(l[0]), name: l[0], color: l[1] }; });
    function value(s, line) { return line.index >= 0 ? s.routes[line.index] : 0; }
    var peak = shown.reduce(function (a, s) { return Math.max(a, value(s, lines[0]), value(s, lines[1])); }, 0);
    var scale = niceScale(Math.max(1, peak * 1.1), 3);
    var yMax = scale.max;
    function x(t) { return L + (t - axis.start) / axis.span * (W - L - R); }
    function y(v) { return T + (1 - v / yMax) * (H - T - B); }
    var root = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, 'class': 'chart', role: 'img',
      'aria-label': 'request rate by route over the last ' + fmtSpan(axis.span) });
    timeTicks(root, g, axis, x);
    for (var k = 0; k <= scale.count; k += 1) {
      var v = scale.step * k;
      root.appendChild(svg('line', { x1: L, x2: W - R, y1: y(v), y2: y(v), stroke: k === 0 ? COLOR.line : COLOR.grid }));
      root.appendChild(svg('text', { x: L - 6, y: y(v) + 4, 'text-anchor': 'end' }, v >= 100 ? Math.round(v) : Math.round(v * 100) / 100));
    }
    lines.forEach(function (line) {
      var d = '';
      shown.forEach(function (s, i) { d += (i === 0 ? 'M' : 'L') + x(s.at).toFixed(1) + ' ' + y(value(s, line)).toFixed(1); });
      if (d) { root.appendChild(svg('path', { d: d, fill: 'none', stroke: line.color, 'stroke-width': 2, 'stroke-linejoin': 'round' })); }
      var last = shown[shown.length - 1];
      if (last) { root.appendChild(svg('circle', { cx: x(last.at), cy: y(value(last, line)), r: 3, fill: line.color })); }
    });
    if (shown.length === 0) {
      root.appendChild(svg('text', { x: (L + W - R) / 2, y: (T + H - B) / 2, 'text-anchor': 'middle' }, 'no samples yet'));
    }
    addHover(root, g, axis, x, shown, function (s) { return s.at; }, function (s) {
      return fmtClock(s.at, false) + '  ·  primary ' + fmtRate(value(s, lines[0])) + '  ·  replica ' + fmtRate(value(s, lines[1])) +
        '  ·  total ' + fmtRate(s.total);
    });
    box.appendChild(root);
    var legend = el('div', 'legend');
    lines.forEach(function (line) { legend.appendChild(legendItem('', line.color, line.name)); });
    legend.appendChild(el('span', null, 'averaged over ' + Math.round(RATE_AVERAGE_MS / 1000) + ' s'));
    box.appendChild(legend);
  }

  // Fixed keys first in the SPEC's order, then the others (rule:NAME) by name.
  function orderedKeys(object, fixed) {
    var rest = Object.keys(object).filter(function (k) { return fixed.indexOf(k) < 0; }).sort();
    return fixed.filter(function (k) { return Object.prototype.hasOwnProperty.call(object, k); }).concat(rest);
  }

  function renderTraffic(doc, axis) {
    var totals = doc.status.totals;
    var series = doc.totals || { routes: [], reasons: [], points: [] };
    var rates = trafficRates(series);
    var latest = rates.length > 0 ? rates[rates.length - 1] : null;
    // Every name /status knows (the fixed ones always) and every name in the series.
    function names(counts, seen) {
      var all = {};
      Object.keys(counts).forEach(function (k) { all[k] = true; });
      seen.forEach(function (k) { all[k] = true; });
      return all;
    }
    function rateOf(seen, values, name) {
      if (!latest) { return null; }
      var i = seen.indexOf(name);
      return i >= 0 ? values[i] : 0;
    }
    $('total-requests').textContent = totals.requests.toLocaleString();
    $('total-rate').textContent = fmtRate(latest ? latest.total : null);
    bars($('by-route'), orderedKeys(names(totals.by_route, series.routes), ['primary', 'replica']).map(function (k) {
      return [k, rateOf(series.routes, latest ? latest.routes : [], k)];
    }), 'route');
    bars($('by-reason'), orderedKeys(names(totals.by_reason, series.reasons), ['read', 'write', 'pinned', 'pin-caught-up', 'no-replica']).map(function (k) {
      return [k, rateOf(series.reasons, latest ? latest.reasons : [], k)];
    }), 'reason');
    rateChart(rates, series.routes, axis);
  }

  function renderDecisions(decisions) {
    var body = $('decisions');
    clear(body);
    if (decisions.length === 0) {
      var row = el('tr');
      var cell = el('td', 'empty', 'no decisions yet');
      cell.colSpan = 12;
      row.appendChild(cell);
      body.appendChild(row);
      return;
    }
    decisions.forEach(function (d) {
      var row = el('tr');
      row.appendChild(el('td', 'mono', fmtClock(d.at_ms, true)));
      row.appendChild(el('td', null, d.method));
      var path = el('td', 'path', d.path);
      path.title = d.path;
      row.appendChild(path);
      row.appendChild(el('td', null, d.route));
      row.appendChild(el('td', null, d.reason));
      row.appendChild(el('td', d.replica ? null : 'muted', d.replica || '–'));
      row.appendChild(el('td', d.server ? 'mono' : 'muted', d.server || 'router'));
      row.appendChild(el('td', 's' + String(d.status).charAt(0), d.status));
      row.appendChild(el('td', 'num', d.duration_ms === null ? '–' : d.duration_ms.toFixed(d.duration_ms < 10 ? 2 : 1)));
      row.appendChild(el('td', 'num', d.attempts));
      row.appendChild(el('td', d.pin === 'none' ? 'muted' : null, d.pin + (d.pin_set ? ' · set' : '')));
      row.appendChild(el('td', 'mono', d.client));
      body.appendChild(row);
    });
  }

  function render(doc) {
    $('version').textContent = doc.status.version;
    $('uptime').textContent = fmtUptime(doc.status.uptime_s || 0);
    var axis = timeAxis(doc);
    renderPrimary(doc.status.primary);
    renderTraffic(doc, axis);
    renderReplicas(doc, axis);
    renderDecisions(doc.decisions);
  }

  function showError(message) {
    var box = $('error');
    box.textContent = message;
    box.style.display = message ? 'block' : 'none';
  }

  function updateConnection() {
    var age = lastOk ? Math.round((Date.now() - lastOk) / 1000) : null;
    var fresh = age !== null && age <= 3 * REFRESH_MS / 1000;
    $('conn-dot').className = fresh ? 'dot' : (age === null ? 'dot stale' : 'dot down');
    $('conn-text').textContent = age === null ? 'connecting…' : (fresh ? 'live · updated ' + fmtClock(lastOk, false) : 'stale · last update ' + age + ' s ago');
  }

  var timer = null;
  function refresh(schedule) {
    fetch('dashboard.json', { headers: headers(), cache: 'no-store' })
      .then(function (response) {
        if (response.status === 401) { throw new Error('401 unauthorized: open this page as /?token=<admin token>'); }
        if (!response.ok) { throw new Error('dashboard.json: HTTP ' + response.status); }
        return response.json();
      })
      .then(function (doc) {
        render(doc);
        lastOk = Date.now();
        showError('');
      })
      .catch(function (e) { showError(e.message || String(e)); })
      .then(function () {
        updateConnection();
        if (schedule !== false) { timer = window.setTimeout(refresh, REFRESH_MS); }
      });
  }
  window.setInterval(updateConnection, 1000);
  refresh();
})();
</script>
</body>
</html>
"""#
}
