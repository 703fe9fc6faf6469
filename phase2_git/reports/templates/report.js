"use strict";
// Builds the list and the details from the JSON above with textContent only: nothing that
// comes from an artifact is ever parsed as HTML.
(function () {
  var source = document.getElementById("phase2-data");
  var items = JSON.parse(source.textContent).items;
  var PAGE = 100;
  var page = 0;
  var shown = items;
  var open = {};
  var rows = document.getElementById("rows");
  if (!rows) { return; }
  var el = Phase2Diff.el, changeList = Phase2Diff.changeList, diffTable = Phase2Diff.table;

  var filters = {
    type: document.getElementById("f-type"),
    verdict: document.getElementById("f-verdict"),
    plan: document.getElementById("f-plan"),
    state: document.getElementById("f-state")
  };
  Object.keys(filters).forEach(function (key) {
    var seen = {};
    items.forEach(function (it) { seen[it[key]] = (seen[it[key]] || 0) + 1; });
    Object.keys(seen).sort().forEach(function (value) {
      var opt = el("option", null, value + " (" + seen[value] + ")");
      opt.value = value;
      filters[key].appendChild(opt);
    });
  });
  var pathBox = document.getElementById("f-path");
  var failingBox = document.getElementById("f-failing");

  function matches(it) {
    var needle = pathBox.value.toLowerCase();
    if (needle && it.path.toLowerCase().indexOf(needle) < 0 &&
        !(it.old_path && it.old_path.toLowerCase().indexOf(needle) >= 0)) { return false; }
    for (var key in filters) {
      if (filters[key].value && it[key] !== filters[key].value) { return false; }
    }
    return !(failingBox.checked && !it.failing);
  }

  function detail(it) {
    var td = el("td", "detail");
    td.colSpan = 6;
    td.appendChild(el("p", null, it.detail));
    td.appendChild(el("p", "help", "plan: " + it.plan + " — " + it.reason));
    if (it.old_path) { td.appendChild(el("p", null, "renamed from " + it.old_path)); }
    if (it.changes) { td.appendChild(changeList(it.changes)); }
    if (Array.isArray(it.diff)) {
      td.appendChild(el("strong", null, "Side by side (base | head)"));
      td.appendChild(diffTable(it.diff));
    } else if (typeof it.diff === "string") {
      td.appendChild(el("p", "help", it.diff));
    } else {
      td.appendChild(el("p", "help", "No side-by-side diff in this report (past the cap, or no repository): run `phase2 diff` for it."));
    }
    var tr = el("tr", "detail-row");
    tr.appendChild(td);
    return tr;
  }

  function toggle(tr, it) {
    var next = tr.nextSibling;
    if (next && next.className === "detail-row") {
      rows.removeChild(next);
      delete open[it.id];
      tr.setAttribute("aria-expanded", "false");
      return;
    }
    open[it.id] = true;
    rows.insertBefore(detail(it), next);
    tr.setAttribute("aria-expanded", "true");
  }

  function itemRow(it) {
    var tr = el("tr", "item");
    tr.tabIndex = 0;
    tr.id = it.id;
    tr.setAttribute("data-id", it.id);
    tr.setAttribute("aria-expanded", "false");
    tr.appendChild(el("td", "path", it.old_path ? it.old_path + " → " + it.path : it.path));
    tr.appendChild(el("td", null, it.status));
    tr.appendChild(el("td", null, it.type));
    var v = el("td");
    v.appendChild(el("span", "badge " + it.verdict, it.verdict));
    if (it.failing) { v.appendChild(document.createTextNode(" ")); v.appendChild(el("span", "badge failing", "failing")); }
    tr.appendChild(v);
    tr.appendChild(el("td", null, it.state));
    tr.appendChild(el("td", null, it.plan));
    tr.addEventListener("click", function () { toggle(tr, it); });
    tr.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); toggle(tr, it); }
    });
    return tr;
  }

  function draw() {
    while (rows.firstChild) { rows.removeChild(rows.firstChild); }
    var pages = Math.max(1, Math.ceil(shown.length / PAGE));
    if (page >= pages) { page = pages - 1; }
    shown.slice(page * PAGE, (page + 1) * PAGE).forEach(function (it) {
      var tr = itemRow(it);
      rows.appendChild(tr);
      if (open[it.id]) { rows.appendChild(detail(it)); tr.setAttribute("aria-expanded", "true"); }
    });
    document.getElementById("shown").textContent = "showing " + shown.length + " of " + items.length;
    document.getElementById("page").textContent = "page " + (page + 1) + " of " + pages;
    document.getElementById("prev").disabled = page === 0;
    document.getElementById("next").disabled = page >= pages - 1;
  }

  function refilter() { shown = items.filter(matches); page = 0; draw(); }

  pathBox.addEventListener("input", refilter);
  failingBox.addEventListener("change", refilter);
  Object.keys(filters).forEach(function (key) { filters[key].addEventListener("change", refilter); });
  document.getElementById("filters").addEventListener("submit", function (ev) { ev.preventDefault(); });
  document.getElementById("prev").addEventListener("click", function () { page--; draw(); });
  document.getElementById("next").addEventListener("click", function () { page++; draw(); });

  // #mis_… opens that mismatch (a link from a CI summary or a colleague)
  var wanted = window.location.hash.slice(1);
  if (wanted) {
    for (var i = 0; i < items.length; i++) {
      if (items[i].id === wanted) { page = Math.floor(i / PAGE); open[wanted] = true; break; }
    }
  }
  draw();
  if (wanted && open[wanted]) {
    var target = document.getElementById(wanted);
    if (target) { target.scrollIntoView(); }
  }
}());
