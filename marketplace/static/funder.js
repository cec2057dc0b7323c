/* Draws each dashboard chart from the JSON block beside it (no inline script: CSP default-src 'self').
   The numbers are the table's own; a figure hidden (<5, or hidden with one) is a gap in the chart. */
(function () {
  "use strict";
  var COLOURS = ["#0b6b3a", "#d98e04", "#2a6fb0", "#a12a1d", "#6b4fa0"];

  function percentAxis(datasets) {
    return datasets.every(function (d) { return d.kind === "percent"; });
  }

  function draw(block) {
    var canvas = document.getElementById(block.getAttribute("data-canvas"));
    if (!canvas || typeof window.Chart === "undefined") { return; }
    var spec = JSON.parse(block.textContent);
    var line = spec.type === "line";
    var datasets = spec.datasets.map(function (d, i) {
      var colour = COLOURS[i % COLOURS.length];
      return {
        label: d.label, data: d.data, backgroundColor: colour, borderColor: colour,
        borderWidth: line ? 2 : 0, tension: 0.2, spanGaps: false, pointRadius: line ? 3 : 0
      };
    });
    var yTicks = percentAxis(spec.datasets) ? { callback: function (v) { return v + "%"; } } : {};
    canvas.chart = new window.Chart(canvas, {
      type: spec.type,
      data: { labels: spec.labels, datasets: datasets },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        plugins: { legend: { position: "bottom" } },
        scales: { y: { beginAtZero: true, ticks: yTicks } }
      }
    });
    canvas.setAttribute("data-drawn", "true");
  }

  function init() {
    var blocks = document.querySelectorAll("script.chart-data");
    for (var i = 0; i < blocks.length; i++) { draw(blocks[i]); }
    document.body.setAttribute("data-charts-ready", String(blocks.length));
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
