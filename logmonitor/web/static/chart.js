// The dashboard's error chart: ranges, a local-time axis, per-service lines, hover and keyboard
// read-out. It uses dashboard.js's el(), svg(), getJson() and COLORS (classic scripts share one
// global scope; this file keeps its own names in a block). Service names are producer-controlled:
// they are only ever set as textContent or attribute values.
"use strict";

{
  const RANGES = [15, 60, 360, 1440]; // minutes; the buttons in index.html carry the same numbers
  const DEFAULT_MINUTES = 60;
  const STORED_RANGE = "logmonitor.chart.minutes";
  const REFRESH_MS = 5000;
  const TOP = COLORS.length; // one colour per service; the rest come as one "other services" line
  const WIDTH = 640, HEIGHT = 220, LEFT = 44, RIGHT = 12, TOP_MARGIN = 10, BOTTOM = 26;
  const MAX_TIME_TICKS = 8;
  const TICK_MINUTES = [1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720];
  const MINUTE_MS = 60000;
  const ERROR_LEVELS = ["ERROR", "CRITICAL"];
  const KEY_MOVES = { ArrowLeft: -1, ArrowRight: 1, PageUp: -10, PageDown: 10 };

  const clock = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  const day = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" });

  const chart = { minutes: DEFAULT_MINUTES, view: null, cursorMs: null, asked: 0 }; // the cursor stays on its time across refreshes

  function $(id) { return document.getElementById(id); }

  function storedMinutes() {
    try {
      const minutes = Number(window.localStorage.getItem(STORED_RANGE));
      return RANGES.includes(minutes) ? minutes : DEFAULT_MINUTES;
    } catch (_) { return DEFAULT_MINUTES; } // storage refused (privacy settings): the default range
  }

  function storeMinutes(minutes) {
    try { window.localStorage.setItem(STORED_RANGE, String(minutes)); } catch (_) { /* kept for this page only */ }
  }

  function rangeName(minutes) { return minutes < 60 ? `${minutes} minutes` : `${minutes / 60} hour${minutes > 60 ? "s" : ""}`; }
  function stepName(seconds) { return seconds === 60 ? "minute" : `${seconds / 60} minutes`; }

  function timeLabel(ms) { return clock.format(new Date(ms)); }

  function bucketLabel(view, index) {
    const start = view.starts[index];
    return view.step === MINUTE_MS ? timeLabel(start) : `${timeLabel(start)}–${timeLabel(start + view.step)}`;
  }

  // --- the answer as lines -------------------------------------------------------------------

  function errorCounts(levels, view) {
    const counts = new Array(view.starts.length).fill(null);
    for (const level of ERROR_LEVELS) {
      for (const [ms, n] of levels[level] || []) {
        const index = Math.round((ms - view.since) / view.step);
        if (index >= 0 && index < counts.length) counts[index] = (counts[index] || 0) + n;
      }
    }
    for (let index = view.firstKept; index < counts.length; index += 1) counts[index] = counts[index] || 0;
    return counts;
  }

  function chartView(answer) {
    const step = answer.bucket_seconds * 1000;
    const starts = [];
    for (let ms = answer.since; ms < answer.until; ms += step) starts.push(ms);
    const view = { step, since: answer.since, starts, firstKept: Math.max(0, Math.floor((answer.retained_since - answer.since) / step)),
      retainedSince: answer.retained_since, lines: [] };
    const named = Object.entries(answer.series).map(([service, levels]) => ({ name: service, counts: errorCounts(levels, view) }));
    if (answer.services_omitted) {
      const plural = answer.services_omitted === 1 ? "service" : "services";
      named.push({ name: `${answer.services_omitted} other ${plural}`, counts: errorCounts(answer.others, view), others: true });
    }
    view.lines = named.filter((line) => line.counts.some((n) => n > 0));
    view.lines.forEach((line, index) => { line.color = line.others ? "#6e7781" : COLORS[index % COLORS.length]; });
    view.max = niceMax(Math.max(0, ...view.lines.flatMap((line) => line.counts.filter((n) => n !== null))));
    return view;
  }

  function niceMax(max) {
    if (max <= 4) return 4;
    const magnitude = 10 ** Math.floor(Math.log10(max / 4));
    const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s * 4 >= max);
    return step * 4;
  }

  // --- geometry --------------------------------------------------------------------------------

  function x(view, index) {
    return LEFT + (index * (WIDTH - LEFT - RIGHT)) / Math.max(1, view.starts.length - 1);
  }

  function xOfTime(view, ms) { return x(view, (ms - view.since) / view.step); }

  function y(view, n) { return TOP_MARGIN + (1 - n / view.max) * (HEIGHT - TOP_MARGIN - BOTTOM); }

  function indexAt(view, chartX) {
    return clamped(view, Math.round(((chartX - LEFT) / (WIDTH - LEFT - RIGHT)) * (view.starts.length - 1)));
  }

  function clamped(view, index) { return Math.min(view.starts.length - 1, Math.max(view.firstKept, index)); }

  // Round local times (whole minutes, hours, 3 hours ...) between the first and the last bucket.
  function timeTicks(view) {
    const first = view.starts[0], last = view.starts[view.starts.length - 1];
    const minutes = TICK_MINUTES.find((m) => (last - first) / (m * MINUTE_MS) <= MAX_TIME_TICKS) || 720;
    const interval = minutes * MINUTE_MS;
    const ticks = [];
    for (let local = Math.ceil(localMs(first) / interval) * interval; ; local += interval) {
      const ms = local - offsetMs(local);
      if (ms > last) break;
      if (ms >= first) ticks.push({ ms, label: minutes >= 60 && local % (1440 * MINUTE_MS) === 0 ? day.format(new Date(ms)) : timeLabel(ms) });
    }
    return ticks;
  }

  function offsetMs(ms) { return -new Date(ms).getTimezoneOffset() * MINUTE_MS; }
  function localMs(ms) { return ms + offsetMs(ms); }

  // --- drawing ---------------------------------------------------------------------------------

  function text(content, attributes) {
    const node = svg("text", attributes);
    node.textContent = content;
    return node;
  }

  function draw(view) {
    const plot = $("chart");
    plot.replaceChildren();
    const bottom = y(view, 0);
    for (let i = 0; i <= 4; i += 1) {
      const n = (view.max * i) / 4;
      plot.append(svg("line", { x1: LEFT, y1: y(view, n), x2: WIDTH - RIGHT, y2: y(view, n), class: i ? "grid" : "axis" }),
        text(String(n), { x: LEFT - 6, y: y(view, n) + 3, class: "tick y", "text-anchor": "end" }));
    }
    if (view.firstKept > 0) {
      const end = x(view, view.firstKept);
      plot.append(svg("rect", { x: LEFT, y: TOP_MARGIN, width: end - LEFT, height: bottom - TOP_MARGIN, class: "unretained" }));
    }
    for (const tick of timeTicks(view)) {
      const at = xOfTime(view, tick.ms);
      const anchor = at < LEFT + 16 ? "start" : at > WIDTH - RIGHT - 16 ? "end" : "middle";
      plot.append(svg("line", { x1: at, y1: bottom, x2: at, y2: bottom + 4, class: "axis" }),
        text(tick.label, { x: at, y: HEIGHT - 8, class: "tick x", "text-anchor": anchor, "data-ms": tick.ms }));
    }
    for (const line of view.lines) {
      let path = "";
      line.counts.forEach((n, index) => {
        if (n === null) return;
        path += `${path ? "L" : "M"}${x(view, index).toFixed(1)},${y(view, n).toFixed(1)}`;
      });
      const node = svg("path", { d: path, fill: "none", stroke: line.color, "stroke-width": 2, class: line.others ? "line others" : "line" });
      node.dataset.service = line.name;
      plot.append(node);
    }
    const cursor = svg("g", { class: "cursor", visibility: "hidden" });
    cursor.append(svg("line", { x1: 0, y1: TOP_MARGIN, x2: 0, y2: bottom }),
      ...view.lines.map((line) => svg("circle", { r: 3.5, fill: line.color })));
    plot.append(cursor);
    if (chart.cursorMs !== null) showCursor(clamped(view, Math.round((chart.cursorMs - view.since) / view.step)));
  }

  function drawLegend(view) {
    const legend = $("legend");
    legend.replaceChildren(...view.lines.map((line) => {
      const item = el("li", line.name);
      const swatch = el("span", null, line.others ? "swatch others" : "swatch");
      swatch.style.backgroundColor = line.color;
      item.prepend(swatch);
      return item;
    }));
    if (!view.lines.length) legend.append(el("li", `no errors in the last ${rangeName(chart.minutes)}`, "muted"));
  }

  function describe(view) {
    const kept = view.starts.length - view.firstKept;
    const from = view.starts[view.firstKept], to = view.starts[view.starts.length - 1] + view.step;
    const parts = [`Errors per ${stepName(view.step / 1000)} by service, last ${rangeName(chart.minutes)}, `
      + `${kept} points from ${timeLabel(from)} to ${timeLabel(to)} local time.`];
    if (!view.lines.length) parts.push("No errors in this range.");
    for (const line of view.lines) {
      const total = line.counts.reduce((sum, n) => sum + (n || 0), 0);
      const peak = line.counts.reduce((best, n, index) => ((n || 0) > (line.counts[best] || 0) ? index : best), view.firstKept);
      parts.push(`${line.name}: ${total} error${total === 1 ? "" : "s"}, most ${line.counts[peak]} at ${bucketLabel(view, peak)}.`);
    }
    parts.push("Focus the chart and use the arrow keys to read each point.");
    $("chart-summary").textContent = parts.join(" ");
    const note = $("chart-note");
    note.hidden = view.firstKept === 0;
    note.textContent = view.firstKept === 0 ? ""
      : `Counts are kept only since ${timeLabel(view.retainedSince)} (the window retention); the shaded part has none.`;
  }

  function render(answer) {
    const view = chartView(answer);
    chart.view = view;
    $("chart-title").textContent = `Errors per ${stepName(answer.bucket_seconds)} by service, last ${rangeName(chart.minutes)}`;
    draw(view);
    drawLegend(view);
    describe(view);
  }

  // --- hover and keyboard read-out -------------------------------------------------------------

  function showCursor(index) {
    const view = chart.view;
    if (!view || !view.starts.length) return;
    chart.cursorMs = view.starts[index];
    const cursor = $("chart").querySelector(".cursor");
    const at = x(view, index).toFixed(1);
    cursor.setAttribute("visibility", "visible");
    const [rule, ...dots] = cursor.children;
    rule.setAttribute("x1", at);
    rule.setAttribute("x2", at);
    view.lines.forEach((line, i) => {
      dots[i].setAttribute("cx", at);
      dots[i].setAttribute("cy", y(view, line.counts[index] || 0).toFixed(1));
    });
    const values = view.lines.map((line) => {
      const item = el("li", null, "readout-value");
      const swatch = el("span", null, line.others ? "swatch others" : "swatch");
      swatch.style.backgroundColor = line.color;
      item.append(swatch, el("span", line.name, "readout-name"), el("span", line.counts[index] || 0, "num"));
      item.dataset.service = line.name;
      return item;
    });
    if (!values.length) values.push(el("li", "no errors", "muted"));
    $("chart-readout-time").textContent = bucketLabel(view, index);
    $("chart-readout-values").replaceChildren(...values);
    $("chart-readout").hidden = false;
  }

  function hideCursor() {
    chart.cursorMs = null;
    const cursor = $("chart").querySelector(".cursor");
    if (cursor) cursor.setAttribute("visibility", "hidden");
    $("chart-readout").hidden = true;
  }

  function chartX(event) {
    const box = $("chart").getBoundingClientRect();
    return ((event.clientX - box.left) / box.width) * WIDTH;
  }

  function onKey(event) {
    const view = chart.view;
    if (!view || !view.starts.length) return;
    const last = view.starts.length - 1;
    let index = chart.cursorMs === null ? last : clamped(view, Math.round((chart.cursorMs - view.since) / view.step));
    if (event.key in KEY_MOVES) index += KEY_MOVES[event.key];
    else if (event.key === "Home") index = view.firstKept;
    else if (event.key === "End") index = last;
    else if (event.key === "Escape") { hideCursor(); return; }
    else return;
    event.preventDefault();
    showCursor(clamped(view, index));
  }

  // --- ranges and loading ----------------------------------------------------------------------

  function showRange() {
    for (const button of $("chart-ranges").querySelectorAll("button")) {
      button.setAttribute("aria-pressed", String(Number(button.dataset.minutes) === chart.minutes));
    }
  }

  async function load() {
    const minutes = chart.minutes;
    chart.asked += 1;
    const asked = chart.asked;
    try {
      const answer = await getJson(`/api/v1/logs/series?minutes=${minutes}&top=${TOP}`);
      if (asked === chart.asked) render(answer); // a later range was chosen meanwhile: its answer wins
    } catch (_) {
      // The dashboard's status line says when the worker cannot be reached; the last chart stays.
    }
  }

  function choose(minutes) {
    if (!RANGES.includes(minutes)) return;
    chart.minutes = minutes;
    storeMinutes(minutes);
    showRange();
    hideCursor();
    load();
  }

  function startChart() {
    chart.minutes = storedMinutes();
    showRange();
    $("chart-ranges").addEventListener("click", (event) => {
      const button = event.target.closest("button[data-minutes]");
      if (button) choose(Number(button.dataset.minutes));
    });
    const plot = $("chart");
    plot.addEventListener("mousemove", (event) => { if (chart.view) showCursor(indexAt(chart.view, chartX(event))); });
    plot.addEventListener("mouseleave", hideCursor);
    plot.addEventListener("keydown", onKey);
    plot.addEventListener("focus", () => { if (chart.view && chart.cursorMs === null) showCursor(chart.view.starts.length - 1); });
    plot.addEventListener("blur", hideCursor);
    load();
    setInterval(load, REFRESH_MS);
  }

  document.addEventListener("DOMContentLoaded", startChart);
}
