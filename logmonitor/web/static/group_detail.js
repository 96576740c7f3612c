// A group's detail at #group/<id>, in a dialog over the groups list (groups.js): its fields, hourly and
// daily bars, latest events with their stack, context, breadcrumbs and trace, its status history, and
// the buttons that resolve, reopen and ignore it (then "groups-changed" tells the list). It uses
// dashboard.js's el(), svg(), getJson(), apiRequest(), plural(), shortTime() and breadcrumbList(), and
// trace.js's showTrace() and hideTrace() (classic scripts share one global scope; this file keeps its own
// names in a block). Titles, stacks and context are producer-controlled: only ever set as textContent or
// attribute values.
"use strict";

{
  const ROUTE = /^#group\/([A-Za-z0-9_-]{1,512})$/; // the ids the API makes: base64url
  const IGNORE_DAY_MS = 86400000;
  const ACTIONS = ["group-reopen", "group-resolve", "group-ignore"]; // the first shown takes the focus of one gone
  const BARS = { width: 480, height: 96, top: 6, bottom: 18, left: 4, right: 4 };

  const detail = { id: null, group: null, opener: null, busy: false };

  function $(id) { return document.getElementById(id); }

  function utc(iso) { return iso ? `${shortTime(iso)} UTC` : "–"; }

  function route() {
    const match = ROUTE.exec(window.location.hash);
    if (match) openGroup(match[1]);
    else if ($("group-dialog").open) $("group-dialog").close();
  }

  async function openGroup(id) {
    const dialog = $("group-dialog");
    if (!dialog.open) {
      detail.opener = document.activeElement;
      detail.group = null;
      clearDetail();
      dialog.showModal();
      $("group-title").focus();
    }
    if (detail.id !== id) hideTrace(); // another group's trace is not this one's
    detail.id = id;
    try {
      const group = await getJson(`/api/v1/logs/groups/${id}`);
      if (detail.id === id && dialog.open) renderDetail(group);
    } catch (error) {
      if (detail.id !== id) return;
      showDetailError(`Cannot load this group: ${error.message}`);
    }
  }

  function clearDetail() {
    $("group-title").textContent = "Loading…";
    for (const id of ["group-fields", "group-events", "group-history", "group-hourly", "group-daily"]) $(id).replaceChildren();
    $("group-saved").textContent = "";
    hideTrace();
    showDetailError(null);
    showIgnoreForm(false);
    for (const id of ACTIONS) $(id).hidden = true;
  }

  function showDetailError(text) {
    const node = $("group-error");
    node.hidden = !text;
    node.textContent = text || "";
  }

  function renderDetail(group) {
    detail.group = group;
    $("group-title").textContent = group.title || group.exception_type || group.fingerprint;
    const fields = $("group-fields");
    fields.replaceChildren();
    const entries = [["Status", group.statuses.join(", ")], ["Ignored", ignoreText(group.ignore)],
      ["Service", group.service], ["Level", group.level], ["Events", group.count.toLocaleString()],
      ["First seen", utc(group.first_seen)], ["Last seen", utc(group.last_seen)],
      ["Hosts", (group.hosts || []).join(", ")], ["First release", group.first_release],
      ["Last release", group.last_release], ["Came back in", group.regressed_in],
      ["Releases", (group.releases || []).map((r) => `${r.release} (${r.count.toLocaleString()})`).join(", ")],
      ["Environments", (group.environments || []).join(", ")], ["Logger", group.logger], ["Exception", group.exception_type],
      ["Fingerprint", group.fingerprint]];
    for (const [name, value] of entries) {
      if (value === null || value === undefined || value === "") continue;
      fields.append(el("dt", name), el("dd", value));
    }
    showActions(group);
    drawBars($("group-hourly"), $("group-hourly-text"), group.hourly || [], "hour", (start) => shortTime(start).slice(11, 16));
    drawBars($("group-daily"), $("group-daily-text"), group.daily || [], "day", (start) => shortTime(start).slice(5, 10));
    renderEvents(group.events || []);
    renderHistory(group.history || []);
  }

  function ignoreText(ignore) {
    if (!ignore) return null;
    if (ignore.count) return `until ${plural(ignore.count, "more event")} (${(ignore.seen || 0).toLocaleString()} seen)`;
    if (ignore.until) return `until ${utc(ignore.until)}`;
    return "forever";
  }

  function showActions(group) {
    const statuses = group.statuses || [];
    const settled = statuses.includes("resolved") || statuses.includes("ignored");
    const focused = ACTIONS.map($).find((button) => button === document.activeElement);
    $("group-resolve").hidden = statuses.includes("resolved");
    $("group-ignore").hidden = statuses.includes("ignored");
    $("group-reopen").hidden = !settled;
    if (focused && focused.hidden) { // the pressed button went away: the keyboard stays on the actions
      const next = ACTIONS.map($).find((button) => !button.hidden);
      if (next) next.focus();
    }
  }

  function drawBars(plot, summary, buckets, unit, label) {
    plot.replaceChildren();
    const max = Math.max(1, ...buckets.map((bucket) => bucket.count));
    const inner = BARS.width - BARS.left - BARS.right;
    const width = inner / Math.max(1, buckets.length);
    const base = BARS.height - BARS.bottom;
    plot.append(svg("line", { x1: BARS.left, y1: base + 0.5, x2: BARS.width - BARS.right, y2: base + 0.5, class: "axis" }));
    buckets.forEach((bucket, index) => {
      const height = bucket.count ? Math.max(1.5, (bucket.count / max) * (base - BARS.top)) : 0;
      const bar = svg("rect", { x: (BARS.left + index * width + 1).toFixed(1), y: (base - height).toFixed(1),
        width: Math.max(1, width - 2).toFixed(1), height: height.toFixed(1), class: "bar" });
      const tip = svg("title", {});
      tip.textContent = `${label(bucket.start)}: ${plural(bucket.count, "event")}`;
      bar.append(tip);
      plot.append(bar);
    });
    for (const index of [0, Math.floor(buckets.length / 2), buckets.length - 1]) {
      if (!buckets[index]) continue;
      const anchor = index === 0 ? "start" : index === buckets.length - 1 ? "end" : "middle";
      const x = index === buckets.length - 1 ? BARS.width - BARS.right : BARS.left + (index + 0.5) * width;
      const tick = svg("text", { x: x.toFixed(1), y: BARS.height - 4, class: "tick", "text-anchor": anchor });
      tick.textContent = label(buckets[index].start);
      plot.append(tick);
    }
    const peak = buckets.reduce((best, bucket) => (bucket.count > best.count ? bucket : best), { count: 0 });
    const total = buckets.reduce((sum, bucket) => sum + bucket.count, 0);
    summary.textContent = `${plural(total, "event")} in ${plural(buckets.length, unit)} (UTC)`
      + (peak.count ? `, most ${peak.count} at ${label(peak.start)}.` : ".");
  }

  function renderEvents(events) {
    $("group-events").replaceChildren(...events.map((event) => {
      const item = el("li");
      const box = el("details");
      const head = el("summary");
      head.append(el("span", shortTime(event.timestamp), "time"), el("span", ` ${event.host || ""} `, "muted"),
        el("span", event.message, "message"));
      const exception = event.exception;
      const stack = exception ? (exception.stacktrace || `${exception.type}: ${exception.message}`) : "(no stack trace)";
      const context = {};
      for (const name of ["release", "environment", "logger", "module", "function", "line", "request_id", "trace_id",
        "span_id", "user_id", "id"]) {
        if (event[name] !== null && event[name] !== undefined && event[name] !== "") context[name] = event[name];
      }
      if (event.extra && Object.keys(event.extra).length) context.extra = event.extra;
      box.append(head);
      if (event.trace_id) {
        const follow = el("button", `Trace ${event.trace_id}`, "trace-link");
        follow.type = "button";
        follow.title = "the errors of this trace, of every service";
        follow.addEventListener("click", () => showTrace(event.trace_id));
        box.append(follow);
      }
      box.append(el("h4", "Stack trace"), el("pre", stack, "stack"), el("h4", "Context"),
        el("pre", JSON.stringify(context, null, 2), "context"));
      item.append(box);
      const crumbs = event.breadcrumbs || []; // the records its context logged before it (dashboard.js)
      if (crumbs.length) box.append(el("h4", "Breadcrumbs"), breadcrumbList(crumbs));
      return item;
    }));
    const first = $("group-events").querySelector("details");
    if (first) first.open = true;
    $("group-events-empty").hidden = events.length > 0;
  }

  function renderHistory(history) {
    $("group-history").replaceChildren(...history.slice().reverse().map((entry) => {
      const item = el("li");
      const ignore = entry.ignore !== undefined ? ` (${ignoreText(entry.ignore) || "forever"})` : "";
      item.append(el("span", utc(entry.at), "time"), el("span", ` ${entry.who}: ${entry.from} → ${entry.to}${ignore}`),
        el("span", ` · ${entry.why}`, "muted"));
      if (entry.reason) item.append(el("span", ` · “${entry.reason}”`));
      return item;
    }));
    $("group-history-empty").hidden = history.length > 0;
  }

  // --- status changes -------------------------------------------------------------------------

  async function changeStatus(body, done) {
    const id = detail.id;
    if (!id || detail.busy) return;
    detail.busy = true; // a second press waits for this answer (disabling the button would drop the keyboard focus)
    $("group-dialog").setAttribute("aria-busy", "true");
    showDetailError(null);
    $("group-saved").textContent = "Saving…";
    try {
      const answer = await apiRequest(`/api/v1/logs/groups/${id}`, {
        method: "PATCH", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
      if (detail.id !== id) return;
      if (answer.applied === false) { // 202: Kafka has it, its owner has not applied it yet
        $("group-saved").textContent = "Sent; the worker owning this group has not applied it yet.";
        setTimeout(() => { if (detail.id === id) openGroup(id); }, 2000);
      } else {
        renderDetail(answer);
        $("group-saved").textContent = done;
      }
      if (body.status === "ignored") showIgnoreForm(false);
      document.dispatchEvent(new Event("groups-changed"));
    } catch (error) {
      $("group-saved").textContent = "";
      showDetailError(`The status did not change: ${error.message}`);
    } finally {
      detail.busy = false;
      $("group-dialog").removeAttribute("aria-busy");
    }
  }

  function showIgnoreForm(open) {
    const inside = $("ignore-form").contains(document.activeElement);
    $("ignore-form").hidden = !open;
    if (inside && !open) { const next = ACTIONS.map($).find((button) => !button.hidden); if (next) next.focus(); }
    $("group-ignore").setAttribute("aria-expanded", String(open));
    if (open) {
      const until = new Date(Date.now() + IGNORE_DAY_MS - new Date().getTimezoneOffset() * 60000);
      $("ignore-until").value = until.toISOString().slice(0, 16); // local time, as datetime-local shows it
      $("ignore-form").querySelector("input[name=ignore-kind]:checked").focus();
    }
  }

  function ignoreBody() {
    const kind = $("ignore-form").querySelector("input[name=ignore-kind]:checked").value;
    if (kind === "count") {
      const count = Number($("ignore-count").value);
      if (!Number.isInteger(count) || count < 1 || count > 1000000) throw new Error("the number of events must be from 1 to 1,000,000");
      return { status: "ignored", ignore: { count } };
    }
    if (kind === "until") {
      const until = new Date($("ignore-until").value);
      if (Number.isNaN(until.getTime()) || until.getTime() <= Date.now()) throw new Error("the time must be in the future");
      return { status: "ignored", ignore: { until: until.toISOString() } };
    }
    return { status: "ignored", ignore: {} };
  }

  function submitIgnore(event) {
    event.preventDefault();
    let body;
    try { body = ignoreBody(); } catch (error) { showDetailError(`Cannot ignore: ${error.message}`); return; }
    changeStatus(body, "Ignored.");
  }

  // Typing in a condition's field chooses that condition.
  function chooseKindOf(input, kind) {
    input.addEventListener("input", () => { $("ignore-form").querySelector(`input[value=${kind}]`).checked = true; });
  }

  function closed() {
    if (ROUTE.test(window.location.hash)) {
      window.history.replaceState(null, "", window.location.pathname + window.location.search);
    }
    detail.id = null;
    const link = [...$("groups").querySelectorAll("a")].find((a) => a.closest("tr").dataset.id === detail.group?.id);
    const back = detail.opener && document.contains(detail.opener) && detail.opener !== document.body ? detail.opener : link;
    if (back) back.focus();
  }

  function startGroupDetail() {
    $("group-close").addEventListener("click", () => $("group-dialog").close());
    $("group-dialog").addEventListener("close", closed);
    $("group-resolve").addEventListener("click", () => changeStatus({ status: "resolved" }, "Resolved."));
    $("group-reopen").addEventListener("click", () => changeStatus({ status: "unresolved" }, "Reopened."));
    $("group-ignore").addEventListener("click", () => showIgnoreForm($("ignore-form").hidden));
    $("ignore-cancel").addEventListener("click", () => { showIgnoreForm(false); $("group-ignore").focus(); });
    $("ignore-form").addEventListener("submit", submitIgnore);
    chooseKindOf($("ignore-count"), "count");
    chooseKindOf($("ignore-until"), "until");
    window.addEventListener("hashchange", route);
    route();
  }

  document.addEventListener("DOMContentLoaded", startGroupDetail);
}
