// A service's releases beside the error groups: the list (newest first: first and last seen, error
// events, groups new in it and groups that came back in it), the groups' release filter, and the
// "new in this release" marker of a group row. It uses dashboard.js's el(), getJson() and
// shortTime(); groups.js calls releaseMarker() for each row, listens to #group-release, and draws its rows
// again on "releases-changed" (the newest release, which marks them, arrived after them).
// Release names are producer-controlled: only ever set as textContent or option values.
"use strict";

const releases = { service: "", newest: null, asked: 0 };

// The marker of a group first seen in the release the list is filtered by, else in the service's newest one.
function releaseMarker(group, chosen) {
  const release = chosen || releases.newest;
  if (!release || group.first_release !== release) return null;
  const marker = el("span", `new in ${release}`, "badge new-release");
  marker.title = `first seen in release ${release}`;
  return marker;
}

{
  const REFRESH_MS = 5000;
  const SHOWN = 20; // the newest releases listed and offered by the filter

  function $(id) { return document.getElementById(id); }

  async function loadReleases() {
    const service = releases.service;
    releases.asked += 1;
    const asked = releases.asked;
    if (!service) { render(null); return; }
    try {
      const answer = await getJson(`/api/v1/logs/releases?${new URLSearchParams({ service, limit: String(SHOWN) })}`);
      if (asked === releases.asked) render(answer);
    } catch (error) {
      if (asked === releases.asked) $("releases-error").textContent = `Cannot load the releases: ${error.message}`;
    }
  }

  function render(answer) {
    const list = answer ? answer.releases : [];
    const newest = list.length ? list[0].release : null;
    if (newest !== releases.newest) { // rows drawn before this answer arrived get their markers now
      releases.newest = newest;
      document.dispatchEvent(new CustomEvent("releases-changed"));
    }
    $("releases-panel").hidden = !answer;
    $("releases-error").textContent = "";
    if (answer) {
      $("releases-service").textContent = answer.service;
      $("releases").replaceChildren(...list.map(releaseRow));
      $("releases-empty").hidden = list.length > 0;
    }
    fillFilter(list);
  }

  function fillFilter(list) {
    const select = $("group-release");
    const chosen = select.value;
    const names = list.map((release) => release.release);
    if (chosen && !names.includes(chosen)) names.push(chosen); // a filter stays while it is chosen
    select.replaceChildren(new Option("all", ""), ...names.map((name) => new Option(name, name)));
    select.value = chosen;
    select.disabled = !releases.service && !chosen;
  }

  function releaseRow(release) {
    const row = el("tr");
    row.dataset.release = release.release;
    const name = el("td");
    const choose = el("button", release.release, "link");
    choose.type = "button";
    choose.title = `show the groups seen in release ${release.release}`;
    choose.addEventListener("click", () => chooseRelease(release.release));
    name.append(choose);
    row.append(name, el("td", shortTime(release.first_seen), "time"), el("td", shortTime(release.last_seen), "time"),
      el("td", release.errors.toLocaleString(), "num"),
      el("td", release.new.toLocaleString(), release.new ? "num new" : "num"),
      el("td", release.regressed.toLocaleString(), release.regressed ? "num regressed" : "num"));
    return row;
  }

  function chooseRelease(name) {
    const select = $("group-release");
    select.value = name;
    select.dispatchEvent(new Event("change"));
  }

  function startReleases() {
    $("group-service").addEventListener("change", () => {
      releases.service = $("group-service").value;
      $("group-release").value = "";
      $("group-release").dispatchEvent(new Event("change"));
      loadReleases();
    });
    loadReleases();
    setInterval(loadReleases, REFRESH_MS);
  }

  document.addEventListener("DOMContentLoaded", startReleases);
}
