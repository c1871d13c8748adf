/* mfbench results site: sortable and filterable tables, and the figures drawn with the
   bundled BokehJS from the page's JSON (bokeh.embed.json_item). No network: everything is
   in the site. */
(function () {
  "use strict";

  function sortKey(cell) {
    var raw = cell.getAttribute("data-sort");
    if (cell.getAttribute("data-type") === "n") {
      return raw === "" || raw === null ? null : parseFloat(raw);
    }
    return raw === null ? cell.textContent.toLowerCase() : raw;
  }

  function sortBy(table, column, header) {
    var body = table.tBodies[0];
    var ascending = header.getAttribute("aria-sort") !== "ascending";
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = sortKey(a.cells[column]), y = sortKey(b.cells[column]);
      if (x === null || x === "") { return (y === null || y === "") ? 0 : 1; }  // missing last
      if (y === null || y === "") { return -1; }
      var order = x < y ? -1 : x > y ? 1 : 0;
      return ascending ? order : -order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
      th.removeAttribute("aria-sort");
    });
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  }

  function filter(input) {
    var table = document.getElementById(input.getAttribute("data-table"));
    var terms = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0, rows = table.tBodies[0].rows;
    Array.prototype.forEach.call(rows, function (row) {
      var content = row.textContent.toLowerCase();
      var keep = terms.every(function (term) { return content.indexOf(term) >= 0; });
      row.hidden = !keep;
      if (keep) { shown += 1; }
    });
    var count = input.parentNode.querySelector(".count");
    var what = input.getAttribute("placeholder").replace(/^filter /, "").replace(/…$/, "");
    count.textContent = (terms.length ? shown + " of " : "") + rows.length + " " + what;
  }

  function tables() {
    Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, column) {
        th.querySelector("button").addEventListener("click", function () {
          sortBy(table, column, th);
        });
      });
    });
    Array.prototype.forEach.call(document.querySelectorAll("input.filter"), function (input) {
      input.addEventListener("input", function () { filter(input); });
    });
  }

  /* Figures: drawn in view first (so the page is usable at once), then the rest one at a
     time while the browser is idle. body[data-plots-visible] is set when those in view at
     load are drawn, body[data-plots] = "ready" when all are. */
  function figures() {
    var source = document.getElementById("figures");
    var body = document.body;
    if (!source) {
      body.setAttribute("data-plots-visible", "ready");
      body.setAttribute("data-plots", "ready");
      return;
    }
    if (typeof Bokeh === "undefined") {
      console.error("BokehJS did not load: the figures cannot be drawn");
      return;
    }
    Bokeh.set_log_level("warn");
    var items = JSON.parse(source.textContent);
    var waiting = items.slice(), drawn = 0, busy = false;
    function inView(item) {
      var box = document.getElementById(item.target_id).getBoundingClientRect();
      return box.bottom > -200 && box.top < window.innerHeight + 200;
    }
    var firstView = items.filter(inView).map(function (item) { return item.target_id; });
    function stamp(name) {
      body.setAttribute(name, "ready");
      body.setAttribute(name + "-ms", String(Math.round(performance.now())));
    }
    if (!firstView.length) { stamp("data-plots-visible"); }
    function pick() {  // the next figure: one in view, else the first left
      for (var i = 0; i < waiting.length; i += 1) {
        if (inView(waiting[i])) { return waiting.splice(i, 1)[0]; }
      }
      return waiting.shift();
    }
    function done(item) {
      drawn += 1;
      body.setAttribute("data-plots-drawn", String(drawn));
      var at = firstView.indexOf(item.target_id);
      if (at >= 0) {
        firstView.splice(at, 1);
        if (!firstView.length) { stamp("data-plots-visible"); }
      }
      busy = false;
      if (waiting.length) { later(step); } else { stamp("data-plots"); }
    }
    function step() {
      if (busy || !waiting.length) { return; }
      busy = true;
      var item = pick();
      Bokeh.embed.embed_item(item, item.target_id).then(function () { done(item); },
        function (error) {
          console.error("figure " + item.target_id + " could not be drawn: " + error);
          done(item);
        });
    }
    function later(task) {
      if (firstView.length) { window.requestAnimationFrame(task); }
      else if (window.requestIdleCallback) { window.requestIdleCallback(task, { timeout: 500 }); }
      else { window.setTimeout(task, 30); }
    }
    step();
  }

  tables();
  figures();
})();
