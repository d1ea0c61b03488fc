/* Draws the report's charts from the JSON block; the data is never evaluated as code. */
(function () {
  "use strict";
  var block = document.getElementById("report-data");
  if (!block || typeof echarts === "undefined") { return; }
  var data = JSON.parse(block.textContent || "{}");
  var specs = data.charts || {};
  var charts = [];
  Object.keys(specs).forEach(function (id) {
    var el = document.getElementById(id);
    if (!el) { return; }
    var chart = echarts.init(el, null, { renderer: "canvas" });
    chart.setOption(specs[id]);
    charts.push(chart);
  });
  document.querySelectorAll(".chart").forEach(function (el) {
    if (!specs[el.id]) { el.style.display = "none"; }
  });
  // Follow the container, not just the window: a phone rotating, a details element
  // opening or a print layout all change a chart's width without a window resize.
  function resizeAll() { charts.forEach(function (c) { c.resize(); }); }
  if (typeof ResizeObserver !== "undefined") {
    var observer = new ResizeObserver(function (entries) {
      entries.forEach(function (entry) {
        var chart = echarts.getInstanceByDom(entry.target);
        if (chart) { chart.resize(); }
      });
    });
    charts.forEach(function (c) { observer.observe(c.getDom()); });
  }
  window.addEventListener("resize", resizeAll);
})();
