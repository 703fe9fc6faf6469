"use strict";
// The page of `phase2 serve`: every key is sent to the server, which applies it with the
// terminal review's own code and answers with the new state. Drawn with textContent only.
(function () {
  var el = Phase2Diff.el;
  var token = new URLSearchParams(window.location.search).get("token") || "";
  var state = null;
  var auditView = false;
  var wholeDiff = false;
  var answered = 0;  // answers drawn: tests wait for this count

  // one request at a time, in the order the keys were pressed: a fast typist's keys must
  // reach the review as they were typed
  var queue = Promise.resolve();

  function call(method, path, body) {
    queue = queue.then(function () { return send(method, path, body); });
    return queue;
  }

  function send(method, path, body) {
    var init = { method: method, headers: { "X-Phase2-Token": token } };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(path, init).then(function (response) {
      return response.json().then(function (data) {
        draw(data);
        document.body.setAttribute("data-ready", String(++answered));
        return data;
      });
    }).catch(function (error) { message(["request failed: " + error], true); });
  }

  function message(lines, isError) {
    var box = document.getElementById("messages");
    while (box.firstChild) { box.removeChild(box.firstChild); }
    lines.forEach(function (line) { box.appendChild(el("p", isError ? "error" : null, line)); });
  }

  function clear(node) { while (node.firstChild) { node.removeChild(node.firstChild); } }

  function drawGroups(s) {
    var nav = document.getElementById("groups");
    clear(nav);
    var ol = el("ol");
    s.groups.forEach(function (g) {
      var li = el("li", g.status, g.path + (g.members > 1 ? " (+" + (g.members - 1) + ")" : ""));
      li.title = g.type + (g.safe ? " · safe" : "") + " · " + g.status;
      ol.appendChild(li);
    });
    nav.appendChild(ol);
  }

  function drawCurrent(s) {
    var box = document.getElementById("current");
    clear(box);
    var it = s.current;
    if (!it) {
      box.appendChild(el("h2", null, "Every group is decided"));
      box.appendChild(el("p", null, s.pending + " decision(s) wait for the commit: press c to commit, q to commit and stop, u to undo."));
      return;
    }
    box.appendChild(el("h2", "path", it.old_path ? it.old_path + " → " + it.path : it.path));
    if (it.members.length) {
      box.appendChild(el("p", null, "and " + it.members.length + " more with the same difference:"));
      var ul = el("ul", "changes");
      it.members.slice(0, 20).forEach(function (p) { ul.appendChild(el("li", null, p)); });
      if (it.members.length > 20) { ul.appendChild(el("li", null, "… " + (it.members.length - 20) + " more")); }
      box.appendChild(ul);
    }
    box.appendChild(el("p", null, it.artifact + " · " + it.type + " · " + it.verdict + " · plan " + it.plan + " (confidence " + it.confidence.toFixed(2) + ")"));
    box.appendChild(el("p", "help", "why: " + it.detail + "; " + it.reason));
    if (it.methods.length) { box.appendChild(el("p", "help", "methods: " + it.methods.join(" · "))); }
    if (it.changes) { box.appendChild(Phase2Diff.changeList(it.changes)); }
    if (Array.isArray(it.diff)) {
      box.appendChild(el("strong", null, "Side by side (base | head)"));
      var table = Phase2Diff.table(it.diff);
      if (wholeDiff) {
        Array.prototype.forEach.call(table.querySelectorAll("tbody[hidden]"), function (b) { b.hidden = false; });
      }
      box.appendChild(table);
    } else if (typeof it.diff === "string") {
      box.appendChild(el("p", "help", it.diff));
    }
  }

  function drawAudits(s) {
    var box = document.getElementById("audits");
    clear(box);
    box.appendChild(el("h2", null, "Audit queue: " + s.audits.length + " auto-approval(s) waiting"));
    if (!s.audits.length) { box.appendChild(el("p", null, "no auto-approval is waiting for an audit")); return; }
    box.appendChild(el("p", "help", "a: it was noise (confirm) · r: it was a real change · t: back to the review"));
    var ol = el("ol");
    s.audits.forEach(function (a, i) {
      var li = el("li", i === 0 ? "current" : null, a.path + " · " + a.type + " · " + a.action + " (" + a.id + ")");
      ol.appendChild(li);
    });
    box.appendChild(ol);
  }

  function drawSteps(s) {
    var box = document.getElementById("steps");
    clear(box);
    box.hidden = !s.guided;
    if (!s.guided) { return; }
    s.guided.steps.forEach(function (step, i) {
      var li = el("li", step.key === s.guided.at ? "at" : null);
      var count = step.key === "audits" ? step.count + " waiting" :
        step.key === "labels" ? step.count + " needed" :
        step.count + " group(s), " + step.files + " file(s) left";
      li.appendChild(el("b", null, (i + 1) + ". " + step.title + " — " + count));
      li.appendChild(document.createTextNode(step.sentence));
      li.setAttribute("data-step", step.key);
      box.appendChild(li);
    });
  }

  function draw(s) {
    state = s;
    var t = s.tally;
    document.getElementById("where").textContent = s.base + " (" + s.base_commit + ") → " + s.branch + " (" + s.branch_commit + ")";
    var done = t.approved + t.rejected + t.skipped;
    document.getElementById("progress").textContent =
      "[" + Math.min(s.k + 1, s.total) + "/" + s.total + "] done " + (t.approved + t.rejected + t.skipped) +
      " · approved " + t.approved + " · rejected " + t.rejected + " · skipped " + t.skipped +
      " · labelled " + t.labelled + " · to commit " + s.pending +
      (s.commits.length ? " · commits " + s.commits.join(", ") : "");
    document.getElementById("bar-done").style.width = (done + s.left ? (100 * done / (done + s.left)) : 100) + "%";
    document.getElementById("audit-toggle").textContent = "audit queue (t): " + s.audits.length;
    drawSteps(s);
    drawGroups(s);
    drawCurrent(s);
    drawAudits(s);
    document.getElementById("current").hidden = auditView;
    document.getElementById("audits").hidden = !auditView;
    var lines = s.notices.concat(s.messages);
    message(s.error ? [s.error] : lines, !!s.error);
  }

  function press(key) {
    if (auditView) {
      if (key === "t" || key === "Escape") { auditView = false; draw(state); return; }
      if ((key === "a" || key === "r") && state && state.audits.length) {
        call("POST", "/api/audit", { id: state.audits[0].id, answer: key === "a" ? "equivalent" : "different" });
      } else if (key === "s" && state && state.audits.length) {
        state.audits.push(state.audits.shift());
        draw(state);
      }
      return;
    }
    if (key === "t") { auditView = true; draw(state); return; }
    if (key === "d") { wholeDiff = !wholeDiff; draw(state); return; }
    if (key === "c") { call("POST", "/api/commit", {}); return; }
    if ("arsenuAS?q".indexOf(key) >= 0) { call("POST", "/api/key", { key: key }); }
  }

  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) { return; }
    var target = ev.target;
    if (target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA")) { return; }
    if (ev.key.length === 1 || ev.key === "Escape") {
      ev.preventDefault();
      press(ev.key);
    }
  });
  Array.prototype.forEach.call(document.querySelectorAll("button[data-key]"), function (b) {
    b.addEventListener("click", function () { press(b.getAttribute("data-key")); });
  });
  call("GET", "/api/state");
}());
