// The error groups: status tabs, search, service, release and sort, pages of 50 by the API's cursor,
// and a sparkline per group; a group's detail is group_detail.js's (#group/<id>), which sends
// "groups-changed" after a status change. It uses dashboard.js's el(), svg(), getJson(), plural() and
// shortTime(), and releases.js's releaseMarker() (classic scripts share one global scope; this file keeps
// its own names in a block). Titles and services are producer-controlled: only ever set as textContent
// or attribute values.
"use strict";

{
  const PAGE = 50; // rows in the DOM at most, however many groups match
  const REFRESH_MS = 5000;
  const TYPING_MS = 300;
  const SPARK = { width: 96, height: 22 };

  const list = { status: "unresolved", q: "", service: "", release: "", sort: "last_seen", cursors: [null], page: 0,
    asked: 0, answer: null };

  function $(id) { return document.getElementById(id); }

  function listPath() {
    const params = new URLSearchParams({ status: list.status, sort: list.sort, limit: String(PAGE) });
    if (list.q) params.set("q", list.q);
    if (list.service) params.set("service", list.service);
    if (list.release) params.set("release", list.release);
    const after = list.cursors[list.page];
    if (after) params.set("after", after);
    return `/api/v1/logs/groups?${params}`;
  }

  async function loadGroups() {
    list.asked += 1;
    const asked = list.asked;
    try {
      const answer = await getJson(listPath());
      if (asked !== list.asked) return; // a later filter or page was chosen meanwhile: its answer wins
      if (!answer.groups.length && list.page > 0) { firstPage(); return; } // the groups moved away
      list.answer = answer;
      renderList(answer);
      showListError(null);
    } catch (error) {
      if (asked === list.asked) showListError(error.status === 401 ? null : `Cannot load the groups: ${error.message}`);
    }
  }

  function showListError(text) {
    const node = $("groups-error");
    node.hidden = !text;
    node.textContent = text || "";
  }

  function firstPage() {
    list.cursors = [null];
    list.page = 0;
    loadGroups();
  }

  function renderList(answer) {
    for (const button of $("group-tabs").querySelectorAll("button")) {
      button.setAttribute("aria-pressed", String(button.dataset.status === list.status));
      button.querySelector(".count").textContent = (answer.by_status[button.dataset.status] || 0).toLocaleString();
    }
    const body = $("groups");
    const focused = body.contains(document.activeElement) ? document.activeElement.closest("tr").dataset.id : null;
    body.replaceChildren(...answer.groups.map(groupRow));
    if (focused) { // a refresh keeps the keyboard where it was
      const row = [...body.rows].find((candidate) => candidate.dataset.id === focused);
      if (row) row.querySelector("a").focus();
    }
    $("groups-empty").hidden = answer.groups.length > 0;
    const first = list.page * PAGE;
    $("groups-range").textContent = answer.groups.length
      ? `${(first + 1).toLocaleString()}–${(first + answer.groups.length).toLocaleString()} of ${answer.total.toLocaleString()}`
      : "";
    $("groups-prev").disabled = list.page === 0;
    $("groups-next").disabled = !answer.next;
  }

  function groupRow(group) {
    const row = el("tr");
    row.dataset.id = group.id;
    const title = el("td", null, "message");
    const link = el("a", group.title || group.exception_type || group.fingerprint);
    link.href = `#group/${group.id}`;
    title.append(link);
    if (group.logger) title.append(el("span", ` ${group.logger}`, "muted culprit"));
    const marker = releaseMarker(group, list.release);
    if (marker) title.append(" ", marker);
    row.append(title, el("td", group.service), statusCell(group), el("td", group.count.toLocaleString(), "num"),
      sparkCell(group.sparkline || []), el("td", shortTime(group.last_seen), "time"));
    return row;
  }

  function statusCell(group) {
    const cell = el("td");
    cell.append(el("span", group.status, `badge status-${group.status}`));
    if (group.status === "regressed" && group.regressed_in) cell.append(el("span", ` in ${group.regressed_in}`, "muted"));
    return cell;
  }

  // One path of bars for 24 hourly counts, oldest first: a few nodes per row, whatever the counts.
  function sparkCell(counts) {
    const cell = el("td", null, "spark");
    const max = Math.max(1, ...counts);
    const width = SPARK.width / Math.max(1, counts.length);
    let d = "";
    counts.forEach((n, index) => {
      if (!n) return;
      const height = Math.max(1.5, (n / max) * (SPARK.height - 2));
      d += `M${(index * width).toFixed(1)},${SPARK.height}v${(-height).toFixed(1)}h${(width - 1).toFixed(1)}v${height.toFixed(1)}z`;
    });
    const total = counts.reduce((sum, n) => sum + n, 0);
    const plot = svg("svg", { viewBox: `0 0 ${SPARK.width} ${SPARK.height}`, width: SPARK.width, height: SPARK.height,
      role: "img", class: "sparkline", "aria-label": `${plural(total, "event")} in the last 24 hours, at most ${max} in an hour` });
    plot.append(svg("line", { x1: 0, y1: SPARK.height - 0.5, x2: SPARK.width, y2: SPARK.height - 0.5, class: "base" }),
      svg("path", { d, class: "bars" }));
    plot.dataset.counts = counts.join(",");
    cell.append(plot);
    return cell;
  }

  function startGroups() {
    $("group-tabs").addEventListener("click", (event) => {
      const button = event.target.closest("button[data-status]");
      if (!button) return;
      list.status = button.dataset.status;
      firstPage();
    });
    $("group-filters").addEventListener("submit", (event) => event.preventDefault());
    let typing = null;
    $("group-q").addEventListener("input", () => {
      clearTimeout(typing);
      typing = setTimeout(() => { list.q = $("group-q").value.trim(); firstPage(); }, TYPING_MS);
    });
    $("group-service").addEventListener("change", () => { list.service = $("group-service").value; firstPage(); });
    $("group-sort").addEventListener("change", () => { list.sort = $("group-sort").value; firstPage(); });
    $("group-release").addEventListener("change", () => { list.release = $("group-release").value; firstPage(); });
    $("groups-next").addEventListener("click", () => {
      if (!list.answer || !list.answer.next) return;
      list.cursors[list.page + 1] = list.answer.next;
      list.page += 1;
      loadGroups();
    });
    $("groups-prev").addEventListener("click", () => { if (list.page > 0) { list.page -= 1; loadGroups(); } });
    document.addEventListener("releases-changed", () => { if (list.answer) renderList(list.answer); });
    document.addEventListener("groups-changed", loadGroups);
    loadGroups();
    setInterval(loadGroups, REFRESH_MS);
  }

  document.addEventListener("DOMContentLoaded", startGroups);
}
