/* batchspec ui: plots, and live updates without a reload.
 *
 * Every text that comes from a spec or a job is set with textContent (never
 * innerHTML), so a hostile name or label stays text. The same file runs in
 * the static report (data-mode="static"), where it only draws the plots that
 * the report embeds; the live app (data-mode="live") also polls JSON.
 */
(function () {
  "use strict";
  var POLL_MS = 1500;
  var CONFIG = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["sendDataToCloud"] };

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function setText(root, field, value) {
    root.querySelectorAll('[data-field="' + field + '"]').forEach(function (n) {
      n.textContent = value === null || value === undefined ? "-" : String(value);
    });
  }

  function setBadge(root, row) {
    root.querySelectorAll('[data-field="state"]').forEach(function (n) {
      n.textContent = row.state;
      n.className = "badge " + row.tone;
    });
  }

  function setProgress(root, row) {
    root.querySelectorAll("progress").forEach(function (bar) {
      if (row.percent === null || row.percent === undefined) bar.removeAttribute("value");
      else bar.value = row.percent;
    });
    setText(root, "progress", row.progress);
  }

  /* ---- plots ---------------------------------------------------------- */

  function drawFigures(container, figures) {
    if (!window.Plotly) return;
    figures.forEach(function (fig) {
      var target = container.querySelector('[data-figure="' + fig.id + '"]');
      if (!target) {
        var card = el("div", { "class": "card" });
        card.appendChild(el("h3", {}, fig.title));
        target = el("div", { "class": "plot", "data-figure": fig.id });
        card.appendChild(target);
        card.appendChild(el("p", { "class": "note" }, fig.note));
        container.appendChild(card);
      } else {
        var note = target.parentNode.querySelector(".note");
        if (note) note.textContent = fig.note || "";
      }
      window.Plotly.react(target, fig.data, fig.layout, CONFIG);
    });
    if (figures.length) {
      var empty = container.parentNode.querySelector('[data-field="no-plots"]');
      if (empty) empty.remove();
    }
  }

  function embeddedFigures() {
    document.querySelectorAll(".plots").forEach(function (container) {
      var data = container.querySelector("script.figure-data");
      if (data) drawFigures(container, JSON.parse(data.textContent || "[]"));
    });
  }

  /* ---- polling --------------------------------------------------------- */

  function poll(url, onData, keepGoing) {
    var stopped = false;
    function tick() {
      if (stopped) return;
      if (document.hidden) { setTimeout(tick, POLL_MS); return; }
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (data) onData(data);
          if (keepGoing(data)) setTimeout(tick, POLL_MS);
          else stopped = true;
        })
        .catch(function () { setTimeout(tick, POLL_MS * 4); });
    }
    setTimeout(tick, POLL_MS);
  }

  /* ---- the jobs list ---------------------------------------------------- */

  function rowNode(row) {
    var tr = el("tr", { "data-id": row.id, "data-terminal": row.terminal ? "true" : "false" });
    var name = el("td", { "class": "name" });
    name.appendChild(el("a", { href: "/jobs/" + row.id }, row.name));
    if (row.disposition !== "current") name.appendChild(el("span", { "class": "muted small" }, " (" + row.disposition + ")"));
    var labels = el("div", {});
    Object.keys(row.labels || {}).sort().forEach(function (k) {
      labels.appendChild(el("span", { "class": "label" }, k + "=" + row.labels[k]));
    });
    name.appendChild(labels);
    tr.appendChild(name);
    tr.appendChild(el("td", {}, row.target));
    var state = el("td", {});
    state.appendChild(el("span", { "class": "badge " + row.tone, "data-field": "state" }, row.state));
    if (row.live) state.appendChild(el("span", { "class": "live-mark", title: "as the local engine reports it now" }, "live"));
    tr.appendChild(state);
    var prog = el("td", { "class": "progress-cell" });
    prog.appendChild(el("progress", { max: "100", "aria-label": "progress" }));
    prog.appendChild(el("span", { "class": "progress-text", "data-field": "progress" }, row.progress));
    tr.appendChild(prog);
    var started = el("td", {});
    if (row.started) started.appendChild(el("time", { datetime: row.started }, row.startedText));
    else started.textContent = "-";
    tr.appendChild(started);
    tr.appendChild(el("td", { "class": "num" }, row.duration));
    tr.appendChild(el("td", { "class": "output mono" }, row.output || "-"));
    setProgress(tr, row);
    return tr;
  }

  function updateRow(tr, row) {
    tr.setAttribute("data-terminal", row.terminal ? "true" : "false");
    setBadge(tr, row);
    setProgress(tr, row);
    var cells = tr.children;
    cells[4].textContent = "";
    if (row.started) cells[4].appendChild(el("time", { datetime: row.started }, row.startedText));
    else cells[4].textContent = "-";
    cells[5].textContent = row.duration;
    cells[6].textContent = row.output || "-";
    var mark = cells[2].querySelector(".live-mark");
    if (row.live && !mark) cells[2].appendChild(el("span", { "class": "live-mark", title: "as the local engine reports it now" }, "live"));
    if (!row.live && mark) mark.remove();
  }

  function jobsPage() {
    var table = document.querySelector('table[data-testid="jobs"] tbody');
    if (!table) return;
    var api = document.body.getAttribute("data-api");
    poll(api, function (data) {
      var ids = data.rows.map(function (r) { return String(r.id); });
      var shown = Array.prototype.map.call(table.children, function (tr) { return tr.getAttribute("data-id"); });
      if (ids.join(",") === shown.join(",")) {
        data.rows.forEach(function (row, i) { updateRow(table.children[i], row); });
      } else {
        table.textContent = "";
        data.rows.forEach(function (row) { table.appendChild(rowNode(row)); });
        if (data.rows.length) {
          document.querySelectorAll('[data-testid="no-jobs"], [data-testid="no-jobs-hint"]')
            .forEach(function (n) { n.remove(); });
        }
      }
      setText(document, "range", data.total ? data.first + "–" + data.last + " of " + data.total : "0 jobs");
    }, function () { return true; });
  }

  /* ---- one job ----------------------------------------------------------- */

  function renderTimeline(list, items) {
    list.textContent = "";
    items.forEach(function (item) {
      var li = el("li", {});
      li.appendChild(el("span", { "class": "when", title: item.atText }, item.atText + " (" + item.offset + ")"));
      li.appendChild(el("span", { "class": "event" }, item.event));
      li.appendChild(el("span", {}, item.change));
      if (item.reason) li.appendChild(el("span", { "class": "muted" }, " — " + item.reason));
      li.appendChild(el("span", { "class": "muted small" }, " by " + item.actor));
      list.appendChild(li);
    });
  }

  function jobPage() {
    var section = document.querySelector("section.job");
    var api = document.body.getAttribute("data-api");
    if (!section || !api) return;
    var plots = section.querySelector(".plots");
    var figuresUrl = plots ? plots.getAttribute("data-figures-url") : null;
    var finished = false;
    var lastPlot = 0;
    function refreshPlots(force) {
      var now = Date.now();
      if (!figuresUrl || (!force && now - lastPlot < POLL_MS * 2)) return;
      lastPlot = now;
      fetch(figuresUrl, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) { if (data) drawFigures(plots, data.figures); })
        .catch(function () {});
    }
    poll(api, function (data) {
      var row = data.row;
      setBadge(section, row);
      setProgress(section, row);
      setText(section, "completed", row.completed);
      setText(section, "failed", row.failed);
      setText(section, "total", row.total === null ? "?" : row.total);
      setText(section, "duration", row.duration);
      setText(section, "started", row.startedText);
      var timeline = section.querySelector("ol.timeline");
      if (timeline) renderTimeline(timeline, data.timeline);
      if (row.terminal && !finished) { finished = true; refreshPlots(true); }
      else if (!row.terminal) refreshPlots(false);
    }, function (data) { return !(data && data.row && data.row.terminal && finished); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    embeddedFigures();
    if (document.body.getAttribute("data-mode") !== "live") return;
    var page = document.body.getAttribute("data-page");
    if (page === "jobs") jobsPage();
    if (page === "job") jobPage();
  });
})();
