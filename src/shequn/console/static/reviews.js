/* Review charts (复盘): read the figures from data-chart, draw with the vendored ECharts.
   No inline script (strict CSP); one chart per .review-chart element. */
(function () {
  "use strict";
  function draw(el) {
    var d = JSON.parse(el.getAttribute("data-chart"));
    var chart = echarts.init(el, null, { renderer: "svg" });
    var option;
    if (el.getAttribute("data-kind") === "daily") {
      var x = [];
      for (var i = -d.days; i < d.days; i++) { x.push(i >= 0 ? "+" + i : String(i)); }
      option = {
        title: { text: d.labels.messages, textStyle: { fontSize: 13 } },
        tooltip: { trigger: "axis" },
        legend: { bottom: 0 },
        grid: { left: 40, right: 12, top: 36, bottom: 40 },
        xAxis: { type: "category", data: x },
        yAxis: { type: "value" },
        series: [
          { name: d.labels.treated, type: "line", data: d.treated,
            markLine: { silent: true, symbol: "none", data: [{ xAxis: "+0" }] } },
          { name: d.labels.controls, type: "line", data: d.controls, lineStyle: { type: "dashed" } }
        ]
      };
    } else {
      option = {
        title: { text: d.labels.metrics, textStyle: { fontSize: 13 } },
        tooltip: { trigger: "axis" },
        legend: { bottom: 0 },
        grid: { left: 40, right: 12, top: 36, bottom: 40 },
        xAxis: { type: "category", data: d.metrics.map(function (m) { return m.name; }) },
        yAxis: { type: "value" },
        series: [
          { name: d.labels.before, type: "bar", data: d.metrics.map(function (m) { return m.before; }) },
          { name: d.labels.after, type: "bar", data: d.metrics.map(function (m) { return m.after; }) }
        ]
      };
    }
    chart.setOption(option);
    window.addEventListener("resize", function () { chart.resize(); });
  }
  function init() {
    if (typeof echarts === "undefined") { return; }
    document.querySelectorAll(".review-chart[data-chart]").forEach(draw);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
