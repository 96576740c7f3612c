// logmonitor dashboard. Log text is attacker-controlled: it is only ever set as textContent,
// never parsed as HTML (no innerHTML anywhere), and the page's CSP forbids inline script.
"use strict";

const FEED_LIMIT = 100;
const POLL_MS = 5000;
const RECONNECT_MS = [3000, 30000]; // first and longest wait before opening a refused stream again
const FEED_STATUS = {
  connecting: "connecting to the live feed; polling every 5 s",
  live: "live",
  reconnecting: "live feed reconnecting; polling every 5 s",
  polling: "polling every 5 s",
};
const COLORS = ["#1f5fbf", "#b3261e", "#2e7d32", "#8e44ad", "#c25e00", "#00796b", "#5d4037", "#455a64"];
const SVG = "http://www.w3.org/2000/svg";

const state = { errors: [], feed: "connecting", source: null, reconnectMs: RECONNECT_MS[0], pollTimer: null, services: [] };

function $(id) { return document.getElementById(id); }

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

// --- the API -----------------------------------------------------------------------------------
// With LOGMONITOR_AUTH_TOKEN set the page itself asks (HTTP basic auth, the token as password); the
// browser then sends that Authorization header with every request of the page: a header, never a cookie.

class ApiError extends Error {
  constructor(status, answer) {
    super(answer && answer.detail ? `${answer.error}: ${answer.detail}` : `the worker answered ${status}`);
    this.status = status;
  }
}

async function apiRequest(path, options = {}) {
  const headers = { Accept: "application/json", ...(options.headers || {}) };
  const response = await fetch(path, { ...options, headers, credentials: "same-origin" });
  if (!response.ok) {
    let answer = null;
    try { answer = await response.json(); } catch (_) { /* not the API's JSON error */ }
    throw new ApiError(response.status, answer);
  }
  return response.json();
}

function getJson(path) { return apiRequest(path); }

function filters() {
  return { service: $("filter-service").value, level: $("filter-level").value, q: $("filter-text").value.trim() };
}

function matches(error, f) {
  if (f.service && error.service !== f.service) return false;
  if (f.level && error.level !== f.level) return false;
  if (f.q && !String(error.message || "").toLowerCase().includes(f.q.toLowerCase())) return false;
  return true;
}

function shortTime(iso) { return String(iso || "").replace("T", " ").replace("Z", ""); }

// "1 event", "2,000 events".
function plural(n, word) { return `${n.toLocaleString()} ${word}${n === 1 ? "" : "s"}`; }

// An error's breadcrumbs (the records its context logged before it, oldest first) as a list, all text.
function breadcrumbList(crumbs) {
  const list = el("ol", null, "breadcrumbs");
  for (const crumb of crumbs || []) {
    const item = el("li");
    item.append(el("span", shortTime(crumb.timestamp), "time"), " ",
      el("span", crumb.level, `level level-${String(crumb.level).toLowerCase()}`), " ",
      el("span", crumb.logger ? `${crumb.logger}: ` : "", "muted"), el("span", crumb.message, "message"));
    list.append(item);
  }
  return list;
}

function setStatus(text, ok) {
  const node = $("connection");
  node.textContent = text;
  node.className = ok ? "status ok" : "status warn";
}

// --- totals, levels, services ---------------------------------------------------------------

function renderStats(stats) {
  $("total-logs").textContent = stats.total_logs.toLocaleString();
  $("total-errors").textContent = stats.total_errors.toLocaleString();
  $("errors-hour").textContent = stats.errors_last_hour.toLocaleString();
  $("error-rate").textContent = Number(stats.error_rate_per_minute).toFixed(1);
  $("invalid-records").textContent = stats.invalid_records.toLocaleString();
  const services = Object.keys(stats.by_service).sort();
  $("service-count").textContent = services.length;
  renderServiceOptions(services);
  const levels = $("levels");
  const max = Math.max(1, ...Object.values(stats.by_level));
  levels.replaceChildren();
  for (const level of ["CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG"]) {
    const n = stats.by_level[level] || 0;
    const row = el("tr");
    row.append(el("th", level));
    const cell = el("td");
    const bar = el("span", null, `level-bar level-${level.toLowerCase()}`);
    bar.style.width = `${Math.round((n / max) * 100)}%`;
    cell.append(bar);
    row.append(cell, el("td", n.toLocaleString(), "num"));
    levels.append(row);
  }
}

function renderServiceOptions(services) {
  if (services.join("\u001f") === state.services.join("\u001f")) return;
  state.services = services;
  for (const id of ["filter-service", "group-service"]) fillServiceSelect($(id), services);
}

function fillServiceSelect(select, services) {
  const chosen = select.value;
  select.replaceChildren(el("option", "all"));
  select.firstChild.value = "";
  for (const name of services) {
    const option = el("option", name);
    option.value = name;
    select.append(option);
  }
  select.value = services.includes(chosen) ? chosen : "";
}

// --- SVG (chart.js draws the chart) -----------------------------------------------------------

function svg(tag, attributes) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  return node;
}

// --- error feed and detail ------------------------------------------------------------------

function renderFeed() {
  const body = $("feed");
  const f = filters();
  const shown = state.errors.filter((error) => matches(error, f)).slice(0, FEED_LIMIT);
  body.replaceChildren(...shown.map(feedRow));
  $("feed-empty").hidden = shown.length > 0;
}

function feedRow(error) {
  const row = el("tr", null, "clickable");
  row.tabIndex = 0;
  row.dataset.id = error.id;
  row.setAttribute("role", "button");
  row.setAttribute("aria-label", `${error.level} in ${error.service}: ${error.message}`);
  row.append(el("td", shortTime(error.timestamp), "time"), el("td", error.service),
    el("td", error.level, `level level-${String(error.level).toLowerCase()}`), el("td", error.message, "message"));
  row.addEventListener("click", () => showDetail(error));
  row.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") { event.preventDefault(); showDetail(error); }
  });
  return row;
}

function showDetail(error) {
  $("detail-title").textContent = `${error.level} in ${error.service}`;
  const fields = $("detail-fields");
  fields.replaceChildren();
  const location = [error.module, error.function, error.line].filter((part) => part !== null && part !== undefined);
  const entries = [["Time", error.timestamp], ["Message", error.message], ["Host", error.host],
    ["Release", error.release], ["Environment", error.environment], ["Logger", error.logger], ["Where", location.join(":")], ["Request", error.request_id],
    ["Trace", error.trace_id], ["Span", error.span_id], ["User", error.user_id],
    ["Fingerprint", error.fingerprint], ["Id", error.id]];
  for (const [name, value] of entries) {
    if (value === null || value === undefined || value === "") continue;
    fields.append(el("dt", name), el("dd", value));
  }
  const exception = error.exception;
  $("detail-stack").textContent = exception
    ? (exception.stacktrace || `${exception.type}: ${exception.message}`) : "(none)";
  $("detail-extra").textContent = JSON.stringify(error.extra || {}, null, 2);
  $("detail-breadcrumbs").replaceChildren(...breadcrumbList(error.breadcrumbs).children);
  $("detail-breadcrumbs-empty").hidden = Boolean(error.breadcrumbs && error.breadcrumbs.length);
  const dialog = $("detail");
  if (!dialog.open) dialog.showModal();
  $("detail-close").focus();
}

function addError(error) {
  if (state.errors.some((known) => known.id === error.id)) return;
  state.errors.unshift(error);
  state.errors.length = Math.min(state.errors.length, 1000);
  renderFeed();
}

async function loadErrors() {
  const f = filters();
  const params = new URLSearchParams({ limit: String(FEED_LIMIT) });
  for (const key of ["service", "level", "q"]) if (f[key]) params.set(key, f[key]);
  const answer = await getJson(`/api/v1/logs/errors?${params}`);
  const fresh = new Map(answer.errors.map((error) => [error.id, error]));
  for (const error of state.errors) if (!fresh.has(error.id)) fresh.set(error.id, error);
  state.errors = [...fresh.values()].sort((a, b) => (a.timestamp < b.timestamp ? 1 : -1)).slice(0, 1000);
  renderFeed();
}

// --- alerts -----------------------------------------------------------------------------------

function renderAlerts(answer) {
  $("active-alerts").replaceChildren(...answer.active.map((incident) => {
    const item = el("li", "", "firing");
    item.append(el("strong", `${incident.rule} · ${incident.service}`), el("span", ` ${incident.title}`),
      el("span", ` since ${shortTime(incident.since)}`, "muted"));
    return item;
  }));
  $("alerts").replaceChildren(...answer.alerts.map((alert) => {
    const row = el("tr");
    const text = alert.grouped ? `${alert.title} (${alert.grouped} grouped)` : alert.title;
    row.append(el("td", shortTime(alert.at), "time"), el("td", alert.status, `status-${alert.status}`),
      el("td", alert.rule), el("td", alert.service), el("td", text, "message"));
    return row;
  }));
  $("alerts-empty").hidden = answer.alerts.length > 0;
}

// --- refresh loop, live stream, polling fallback --------------------------------------------

async function refresh() {
  try {
    const [stats, alerts] = await Promise.all([getJson("/api/v1/logs/stats"), getJson("/api/v1/alerts?limit=20")]);
    renderStats(stats);
    renderAlerts(alerts);
    if (state.feed !== "live") await loadErrors();
    if (!state.source) connectStream();
    showFeed(state.feed);
  } catch (error) {
    setStatus(`cannot reach the worker (${error.message}); retrying`, false);
  }
}

// The server sends the feed's state first and on each change; a lost feed ends the stream.
function showFeed(feed) {
  const wasLive = state.feed === "live";
  state.feed = feed in FEED_STATUS ? feed : "reconnecting";
  setStatus(FEED_STATUS[state.feed], state.feed === "live");
  if (state.feed === "live" && !wasLive) {
    state.reconnectMs = RECONNECT_MS[0];
    loadErrors().catch(() => {}); // what arrived while the stream was down
  }
}

function stopStream() {
  if (state.source) state.source.close();
  state.source = null;
}

function connectStream() {
  if (!window.EventSource) { showFeed("polling"); return; }
  const source = new EventSource("/api/v1/logs/stream");
  state.source = source;
  source.addEventListener("status", (event) => showFeed(event.data));
  // New errors arrive as `event: error` messages; the browser's own connection errors share
  // the name but carry no data.
  source.addEventListener("error", (event) => {
    if (event.data) {
      try { addError(JSON.parse(event.data)); } catch (_) { /* a malformed event is skipped */ }
      return;
    }
    showFeed("reconnecting");
    if (source.readyState === EventSource.CLOSED && state.source === source) {
      // Refused (503 when every place is taken): the browser gives up, so try again later.
      setTimeout(connectStream, state.reconnectMs);
      state.reconnectMs = Math.min(state.reconnectMs * 2, RECONNECT_MS[1]);
    }
  });
}

function start() {
  $("filters").addEventListener("submit", (event) => event.preventDefault());
  for (const id of ["filter-service", "filter-level"]) $(id).addEventListener("change", () => loadErrors().catch(() => {}));
  let typing = null;
  $("filter-text").addEventListener("input", () => {
    renderFeed();
    clearTimeout(typing);
    typing = setTimeout(() => loadErrors().catch(() => {}), 300);
  });
  $("detail-close").addEventListener("click", () => $("detail").close());
  refresh();
  state.pollTimer = setInterval(refresh, POLL_MS);
}

document.addEventListener("DOMContentLoaded", start);
