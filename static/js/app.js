// CommunityOps page behaviour. No inline scripts anywhere (see the CSP in settings).
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // Forms marked data-autosubmit (language, organisation) submit when their select changes;
  // without JavaScript their submit button is shown instead.
  document.addEventListener("change", function (event) {
    var form = event.target.closest("form[data-autosubmit]");
    if (form && event.target.tagName === "SELECT") {
      form.requestSubmit ? form.requestSubmit() : form.submit();
    }
  });

  // Charts: <div class="chart" data-chart="ID"> reads its figure from the json_script
  // element with that id. Data never travels inside an executable <script>.
  function drawCharts(root) {
    if (typeof Plotly === "undefined") return;
    root.querySelectorAll("[data-chart]").forEach(function (element) {
      var source = document.getElementById(element.dataset.chart);
      if (!source) return;
      var figure = JSON.parse(source.textContent);
      Plotly.react(element, figure.data, figure.layout, {
        responsive: true,
        displaylogo: false,
        locale: document.documentElement.lang
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { drawCharts(document); });
  document.addEventListener("htmx:afterSettle", function (event) { drawCharts(event.target); });
})();
