/* Charts of the console (DESIGN §8), drawn with the vendored uPlot (static/vendor/uplot).
 *
 * Hand-written because htmx cannot draw: each element with data-chart="<id>" gets a chart of the
 * JSON data island <script id="<id>" type="application/json"> (Django's json_script) beside it:
 *   {"labels": [...], "x_label": "...", "time": bool, "stacked": bool,
 *    "series": [{"name": "...", "values": ["1.20", ...]}]}
 * Every word on a chart comes from the page (translated there): x_label and the series' names.
 * Labels are ISO dates when "time" is true, else categories (drawn as bars). Money arrives as
 * strings; the same figures are in the table under each chart. Charts are drawn on page load (and
 * after htmx swaps in an element holding one), and follow the width of their card.
 */
(function () {
  "use strict";

  var COLOURS = ["#006eff", "#0abf5b", "#ff7200", "#8d47e6", "#e54545", "#00a4b5", "#c1a000", "#6c7a89"];

  function numbers(values) {
    return values.map(function (v) { return v === null ? null : Number(v); });
  }

  function whole(v) {
    return v === null || v === undefined ? "" : Number.isInteger(v) ? v.toLocaleString("en-US") : "";
  }

  function money(v) {
    return v === null || v === undefined ? "" : v.toLocaleString("en-US", {minimumFractionDigits: 2, maximumFractionDigits: 2});
  }

  function build(el) {
    var island = document.getElementById(el.getAttribute("data-chart"));
    if (!island || typeof uPlot === "undefined") { return; }
    var data = JSON.parse(island.textContent);
    // Counts arrive as whole numbers, money with its cents: each is shown as it came.
    var counts = data.series.every(function (s) { return s.values.every(function (v) { return String(v).indexOf(".") < 0; }); });
    var figure = counts ? whole : money;
    var raw = data.series.map(function (s) { return numbers(s.values); });
    var xs = data.time
      ? data.labels.map(function (d) { return Date.parse(d + "T00:00:00Z") / 1000; })
      : data.labels.map(function (_, i) { return i; });
    // Stacked: each series is drawn as the running total up to it, the tallest first, so that the
    // shorter bars drawn after it leave each product's band visible. The legend shows raw values.
    var drawn = raw;
    if (data.stacked) {
      var running = xs.map(function () { return 0; });
      drawn = raw.map(function (values) {
        running = running.map(function (sum, i) { return sum + (values[i] || 0); });
        return running.slice();
      });
    }
    var order = data.stacked ? drawn.map(function (_, i) { return drawn.length - 1 - i; }) : drawn.map(function (_, i) { return i; });
    var bars = data.stacked || !data.time;
    var series = [{label: data.x_label, value: function (u, v) {
      if (v === null) { return ""; }
      return data.time ? new Date(v * 1000).toISOString().slice(0, 10) : data.labels[v];
    }}];
    order.forEach(function (index) {
      var colour = COLOURS[index % COLOURS.length];
      series.push({
        label: data.series[index].name,
        stroke: colour,
        fill: bars ? colour : colour + "22",
        width: bars ? 0 : 2,
        paths: bars ? uPlot.paths.bars({size: [0.8, 40]}) : undefined,
        points: {show: false},
        value: function (u, v, s, i) { return i === null || i === undefined ? "" : figure(raw[index][i]); }
      });
    });
    var opts = {
      width: Math.max(el.clientWidth, 280),
      height: 240,
      // Days are dates, not instants: drawn and labelled in UTC, whatever the browser's zone.
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"); },
      scales: {
        x: {time: !!data.time, range: bars && !data.time ? function (u, min, max) { return [min - 0.6, max + 0.6]; } : undefined},
        // A bar's height is its figure: the axis starts at 0, never at the smallest bar.
        y: {range: function (u, min, max) { return [Math.min(0, min), max > 0 ? max * 1.08 : 1]; }}
      },
      axes: [
        data.time ? {} : {values: function (u, ticks) {
          // A category's name (a customer's, say) is cut to the room its bar has; the table under the
          // chart has it whole, and the legend shows it whole under the cursor.
          var room = Math.max(3, Math.floor((u.bbox.width / devicePixelRatio) / Math.max(data.labels.length, 1) / 7));
          return ticks.map(function (t) {
            var label = Number.isInteger(t) ? (data.labels[t] || "") : "";
            return label.length > room ? label.slice(0, room - 1) + "\u2026" : label;
          });
        }},
        // Wide enough for the longest figure on the axis (1,000,000.00 needs more than 100.00).
        {values: function (u, ticks) { return ticks.map(figure); }, size: function (u, values) {
          var longest = (values || []).reduce(function (n, v) { return Math.max(n, String(v).length); }, 4);
          return longest * 7 + 24;
        }}
      ],
      series: series
    };
    if (el._chart) { el._chart.destroy(); }
    el.textContent = "";
    el._chart = new uPlot(opts, [xs].concat(order.map(function (i) { return drawn[i]; })), el);
    el.setAttribute("data-chart-ready", "true");
  }

  function buildAll(root) {
    (root || document).querySelectorAll("[data-chart]").forEach(build);
  }

  document.addEventListener("DOMContentLoaded", function () { buildAll(document); });
  // htmx:load fires on each element htmx puts into the page (a swapped-in range, say), in the page.
  document.addEventListener("htmx:load", function (event) {
    if (event.detail.elt !== document.body) { buildAll(event.detail.elt); }
  });
  var resizing;
  window.addEventListener("resize", function () {
    clearTimeout(resizing);
    resizing = setTimeout(function () {
      document.querySelectorAll("[data-chart]").forEach(function (el) {
        if (el._chart) { el._chart.setSize({width: Math.max(el.clientWidth, 280), height: 240}); }
      });
    }, 150);
  });
})();
