// One trace's errors across services (GET /api/v1/logs/errors?trace_id=), as a small timeline: a lane
// per service, a mark per error at its time, and the errors listed by time below. groups.js calls
// showTrace() from a group's latest events. It uses dashboard.js's el(), svg(), getJson() and
// shortTime(). Trace ids, services and messages are producer-controlled: only ever set as
// textContent, attribute values or query parameters.
"use strict";

const trace = { id: null };
const TRACE_PLOT = { width: 640, lane: 22, left: 140, right: 12, top: 6 };

async function showTrace(traceId) {
  const panel = document.getElementById("trace-panel");
  trace.id = traceId;
  panel.hidden = false;
  document.getElementById("trace-id").textContent = traceId;
  document.getElementById("trace-error").textContent = "";
  try {
    const answer = await getJson(`/api/v1/logs/errors?${new URLSearchParams({ trace_id: traceId, limit: "200" })}`);
    if (trace.id === traceId) drawTrace(answer.errors.slice().reverse()); // oldest first, left to right
  } catch (error) {
    if (trace.id === traceId) document.getElementById("trace-error").textContent = `Cannot load the trace: ${error.message}`;
  }
  panel.scrollIntoView({ block: "nearest" });
}

function hideTrace() {
  trace.id = null;
  document.getElementById("trace-panel").hidden = true;
}

function drawTrace(errors) {
  const plot = document.getElementById("trace-timeline");
  const services = [...new Set(errors.map((error) => error.service))];
  const height = TRACE_PLOT.top * 2 + Math.max(1, services.length) * TRACE_PLOT.lane;
  plot.setAttribute("viewBox", `0 0 ${TRACE_PLOT.width} ${height}`);
  plot.replaceChildren();
  const times = errors.map((error) => Date.parse(error.timestamp));
  const first = Math.min(...times);
  const span = Math.max(1, Math.max(...times) - first);
  const inner = TRACE_PLOT.width - TRACE_PLOT.left - TRACE_PLOT.right;
  services.forEach((service, lane) => {
    const y = TRACE_PLOT.top + lane * TRACE_PLOT.lane + TRACE_PLOT.lane / 2;
    const label = svg("text", { x: TRACE_PLOT.left - 8, y: y + 4, "text-anchor": "end", class: "lane-label" });
    label.textContent = service.length > 22 ? `${service.slice(0, 21)}…` : service;
    plot.append(label, svg("line", { x1: TRACE_PLOT.left, y1: y, x2: TRACE_PLOT.width - TRACE_PLOT.right, y2: y, class: "lane" }));
  });
  errors.forEach((error, index) => {
    const x = errors.length === 1 ? TRACE_PLOT.left + inner / 2 : TRACE_PLOT.left + ((times[index] - first) / span) * inner;
    const y = TRACE_PLOT.top + services.indexOf(error.service) * TRACE_PLOT.lane + TRACE_PLOT.lane / 2;
    const mark = svg("circle", { cx: x.toFixed(1), cy: y.toFixed(1), r: 5, class: `mark level-${error.level}` });
    const tip = svg("title", {});
    tip.textContent = `${shortTime(error.timestamp)} ${error.service}: ${error.message}`;
    mark.append(tip);
    mark.dataset.service = error.service;
    plot.append(mark);
  });
  const summary = `${errors.length} error${errors.length === 1 ? "" : "s"} in ${services.length} service`
    + `${services.length === 1 ? "" : "s"} over ${(span / 1000).toFixed(3)} s`;
  document.getElementById("trace-summary").textContent = errors.length ? summary : "No error of this trace is kept.";
  document.getElementById("trace-errors").replaceChildren(...errors.map((error) => {
    const item = el("li");
    item.append(el("span", shortTime(error.timestamp), "time"), el("span", ` ${error.service} `, "service"),
      el("span", error.level, "muted"), el("span", ` ${error.message}`, "message"));
    return item;
  }));
}
