/* chargegrid dashboard: charts, maps and small behaviours; no build step.
   Data comes from <script type="application/json"> elements rendered by the server. */
(function () {
  "use strict";

  var MAX_LOG_ROWS = 200;

  function readJson(id) {
    var element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }

  var charts = {};

  function drawChart(element, data) {
    var height = parseInt(element.dataset.height || "240", 10);
    var options = {
      width: element.clientWidth || 600,
      height: height,
      scales: { x: { time: true } },
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC"); },
      legend: { show: true },
      series: [
        { label: data.xLabel || "Day" },
        {
          label: data.label,
          stroke: "#0a58a8",
          fill: "rgba(10, 88, 168, 0.18)",
          width: 2,
          points: { show: data.bars !== true },
          paths: data.bars ? uPlot.paths.bars({ size: [0.7, 48] }) : undefined,
          value: function (u, v) { return v == null ? "—" : v.toFixed(2) + " " + (data.unit || ""); },
        },
      ],
      axes: [{}, { label: data.unit, size: 64 }],
    };
    var plot = new uPlot(options, [data.x, data.y], element);
    element.dataset.ready = "1";
    element.dataset.points = String(data.x.length);
    var note = document.querySelector('[data-note-for="' + element.id + '"]');
    if (note) note.hidden = true;
    if (typeof ResizeObserver !== "undefined") {
      new ResizeObserver(function () {
        plot.setSize({ width: element.clientWidth, height: height });
      }).observe(element);
    }
    return plot;
  }

  function energyChart(element) {
    if (element.dataset.ready || typeof uPlot === "undefined") return;
    if (element.id && charts[element.id] && charts[element.id].element === element) return;
    var data = readJson(element.dataset.source);
    if (!data) return;
    var chart = { element: element, data: data, plot: null };
    if (element.id) charts[element.id] = chart;
    if (data.x.length) chart.plot = drawChart(element, data);
  }

  // New readings of a live chart (a transaction's energy and power): only those after
  // the last point drawn are added.
  function appendPoints(name, points) {
    var chart = charts[name + "-chart"];
    if (!chart || !points || !points.x.length) return;
    var data = chart.data;
    var last = data.x.length ? data.x[data.x.length - 1] : -Infinity;
    points.x.forEach(function (x, i) {
      if (x > last) {
        data.x.push(x);
        data.y.push(points.y[i]);
        last = x;
      }
    });
    if (!data.x.length) return;
    if (chart.plot) {
      chart.plot.setData([data.x, data.y]);
      chart.element.dataset.points = String(data.x.length);
    } else if (typeof uPlot !== "undefined") {
      chart.plot = drawChart(chart.element, data);
    }
  }

  function popup(location) {
    var box = document.createElement("div");
    var title = document.createElement("strong");
    title.textContent = location.name;
    box.appendChild(title);
    var line = document.createElement("div");
    line.textContent = location.online + " of " + location.chargers + " chargers online";
    box.appendChild(line);
    var link = document.createElement("a");
    link.href = "/chargers?location=" + encodeURIComponent(location.id);
    link.textContent = "Show its chargers";
    box.appendChild(link);
    return box;
  }

  function locationMap(element) {
    if (element.dataset.ready || typeof L === "undefined") return;
    var locations = readJson(element.dataset.source) || [];
    element.dataset.ready = "1";
    var map = L.map(element, { scrollWheelZoom: false, attributionControl: true });
    if (element.dataset.tiles) {
      L.tileLayer(element.dataset.tiles, {
        attribution: element.dataset.attribution || "",
        maxZoom: 19,
      }).addTo(map);
    }
    var points = [];
    locations.forEach(function (location) {
      var all = location.chargers > 0 && location.online === location.chargers;
      var none = location.online === 0;
      L.circleMarker([location.lat, location.lon], {
        radius: 9,
        color: "#ffffff",
        weight: 2,
        fillColor: all ? "#12633a" : none ? "#9a1b1b" : "#7f4600",
        fillOpacity: 0.95,
      })
        .bindTooltip(location.name)
        .bindPopup(popup(location))
        .addTo(map);
      points.push([location.lat, location.lon]);
    });
    if (points.length) {
      map.fitBounds(points, { padding: [40, 40], maxZoom: 13 });
    } else {
      map.setView([20, 0], 2);
    }
  }

  function trimLog(body) {
    while (body.rows.length > MAX_LOG_ROWS) body.deleteRow(body.rows.length - 1);
    var empty = document.getElementById("message-log-empty");
    if (empty && body.rows.length) empty.hidden = true;
  }

  function setUp(root) {
    root.querySelectorAll("[data-chart]").forEach(energyChart);
    root.querySelectorAll("[data-map]").forEach(locationMap);
  }

  document.addEventListener("DOMContentLoaded", function () {
    setUp(document);
    document.body.addEventListener("htmx:afterSettle", function (event) {
      setUp(event.target);
    });
    document.body.addEventListener("htmx:afterSwap", function (event) {
      var none = document.getElementById("no-commands");
      if (none && event.detail && event.detail.target && event.detail.target.id === "command-results") {
        none.hidden = true;
      }
    });
    document.body.addEventListener("htmx:oobAfterSwap", function (event) {
      var target = event.detail && event.detail.target;
      if (target && target.id === "message-rows") trimLog(target);
    });
    document.body.addEventListener("htmx:oobAfterSwap", function (event) {
      var target = document.getElementById("meter-append");
      if (!target || !target.dataset.energy) return;
      appendPoints("energy", JSON.parse(target.dataset.energy));
      appendPoints("power", JSON.parse(target.dataset.power));
      delete target.dataset.energy;
      delete target.dataset.power;
    });
    // Forms that undo something ask first (data-confirm holds the question).
    document.body.addEventListener("submit", function (event) {
      var form = event.target;
      if (form && form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
        event.preventDefault();
      }
    });
    document.body.addEventListener("htmx:sseClose", function (event) {
      if (event.detail && event.detail.type === "message") {
        var notice = document.getElementById("signed-out");
        if (notice) notice.hidden = false;
      }
    });
  });
})();
