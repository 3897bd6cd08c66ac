// Chart drill-down: a click on a point of a chart marked
//   <div class="chart" data-chart="ID" data-drilldown-url="/analytics/x/members/?from=…">
// loads the members behind it into #drilldown (or data-drilldown-target) with htmx.
// Each trace carries the point's query string ("cohort=2026-03-02&offset=3") or an
// object of parameters in its customdata; points without one do nothing.
// The charts are drawn by app.js; plotly gives a drawn chart its .on() method.
(function () {
  "use strict";

  var SELECTOR = ".chart[data-drilldown-url]";
  var RETRIES = 50;

  function paramsOf(customdata) {
    if (customdata === null || customdata === undefined || customdata === "") return "";
    if (typeof customdata === "string") return customdata;
    if (typeof customdata === "object" && !Array.isArray(customdata)) {
      return new URLSearchParams(customdata).toString();
    }
    return "";
  }

  function open(chart, params) {
    var url = chart.dataset.drilldownUrl;
    url += (url.indexOf("?") === -1 ? "?" : "&") + params;
    var target = chart.dataset.drilldownTarget || "#drilldown";
    if (typeof htmx === "undefined" || !document.querySelector(target)) {
      window.location.href = url + target;
      return;
    }
    htmx.ajax("GET", url, { target: target, swap: "innerHTML show:" + target + ":top" });
  }

  function attach(chart, tries) {
    if (chart.dataset.drilldownBound) return;
    if (typeof chart.on !== "function") {
      // Not drawn yet (plotly still loading, or app.js runs after us): try again shortly.
      if (tries < RETRIES) setTimeout(function () { attach(chart, tries + 1); }, 100);
      return;
    }
    chart.dataset.drilldownBound = "true";
    chart.classList.add("chart-clickable");
    chart.on("plotly_click", function (event) {
      var point = event && event.points && event.points[0];
      var params = point ? paramsOf(point.customdata) : "";
      if (params) open(chart, params);
    });
  }

  function bind(root) {
    if (!root || !root.querySelectorAll) return;
    var charts = Array.prototype.slice.call(root.querySelectorAll(SELECTOR));
    if (root.matches && root.matches(SELECTOR)) charts.push(root);
    charts.forEach(function (chart) { attach(chart, 0); });
  }

  document.addEventListener("DOMContentLoaded", function () { bind(document); });
  document.addEventListener("htmx:load", function (event) { bind(event.target); });
})();
