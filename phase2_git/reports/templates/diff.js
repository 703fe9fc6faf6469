"use strict";
// The pieces both pages (the HTML report and phase2 serve) draw a mismatch with. Everything is
// built with createElement and textContent: no artifact text is ever parsed as HTML.
var Phase2Diff = (function () {
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function changeList(c) {
    var box = el("div");
    if (c.real.length) {
      box.appendChild(el("strong", null, "Real changes"));
      var ul = el("ul", "changes");
      c.real.forEach(function (r) { ul.appendChild(el("li", r.kind, r.line)); });
      if (c.more) { ul.appendChild(el("li", null, "… " + c.more + " more change(s)")); }
      box.appendChild(ul);
    }
    if (c.noise.length) {
      box.appendChild(el("strong", null, "Noise beside them"));
      var nl = el("ul", "changes");
      c.noise.forEach(function (n) {
        nl.appendChild(el("li", null, n.type + ": " + n.detail + (n.at.length ? " (at " + n.at.join(", ") + ")" : "")));
      });
      box.appendChild(nl);
    }
    return box;
  }

  function cell(side, value) {
    var td = el("td", side);
    if (Array.isArray(value)) {
      td.appendChild(document.createTextNode(value[0]));
      td.appendChild(el("mark", null, value[1]));
      td.appendChild(document.createTextNode(value[2]));
    } else {
      td.textContent = value;
    }
    return td;
  }

  function diffRow(r) {
    var tr = el("tr", r[0]);
    if (r[0] === "gap" || r[0] === "cut") {
      var td = el("td", null, r[0] === "gap" ? "⋯ " + r[1] + " unchanged line(s) ⋯" : "⋯ diff cut: " + r[1] + " more row(s); run `phase2 diff` for the whole change ⋯");
      td.colSpan = 4;
      tr.appendChild(td);
      return tr;
    }
    tr.appendChild(el("td", "no", r[1] === null ? "" : r[1]));
    tr.appendChild(cell("l", r[2]));
    tr.appendChild(el("td", "no", r[3] === null ? "" : r[3]));
    tr.appendChild(cell("r", r[4]));
    return tr;
  }

  function diffTable(diff) {
    var table = el("table", "diff");
    var i = 0;
    while (i < diff.length) {
      if (diff[i][0] !== "noise") {
        var body = el("tbody");
        while (i < diff.length && diff[i][0] !== "noise") { body.appendChild(diffRow(diff[i])); i++; }
        table.appendChild(body);
        continue;
      }
      // a run of lines that differ only by noise: collapsed until asked for
      var run = el("tbody");
      run.hidden = true;
      var count = 0;
      while (i < diff.length && diff[i][0] === "noise") { run.appendChild(diffRow(diff[i])); i++; count++; }
      var head = el("tbody", "noise-toggle");
      var tr = el("tr", "gap");
      var td = el("td");
      td.colSpan = 4;
      var button = el("button", "noise-run", "show " + count + " line(s) that differ only by noise");
      button.type = "button";
      button.addEventListener("click", (function (r, b) {
        return function () { r.hidden = !r.hidden; b.textContent = (r.hidden ? "show " : "hide ") + r.children.length + " line(s) that differ only by noise"; };
      })(run, button));
      td.appendChild(button);
      tr.appendChild(td);
      head.appendChild(tr);
      table.appendChild(head);
      table.appendChild(run);
    }
    return table;
  }

  return { el: el, changeList: changeList, table: diffTable };
}());
