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

  // A points form's rule select (data-fills-points): choosing a rule fills in the form's
  // points and reason from the option (data-points, data-title); both stay editable.
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (!select.matches || !select.matches("select[data-fills-points]")) return;
    var option = select.options[select.selectedIndex];
    if (!option || option.dataset.points === undefined) return;
    var form = select.form;
    var points = form.querySelector("input[name$='delta']");
    var reason = form.querySelector("input[name$='reason']");
    if (points) points.value = option.dataset.points;
    if (reason) reason.value = option.dataset.title;
  });

  // The members list's bulk bar shows only the fields of the chosen action (labels with
  // data-for-action); a header box (data-select-all="NAME") ticks every NAME box.
  function showBulkFields(root) {
    root.querySelectorAll("form.bulk-bar").forEach(function (form) {
      var action = form.querySelector("select[name='action']");
      if (!action) return;
      form.querySelectorAll("[data-for-action]").forEach(function (label) {
        label.hidden = label.dataset.forAction !== action.value;
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { showBulkFields(document); });
  document.addEventListener("htmx:load", function (event) { showBulkFields(event.target); });
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches && target.matches("form.bulk-bar select[name='action']")) {
      showBulkFields(target.form.parentNode);
    }
    if (target.matches && target.matches("input[data-select-all]")) {
      document.querySelectorAll("input[type=checkbox][name='" + target.dataset.selectAll + "']")
        .forEach(function (box) { box.checked = target.checked; });
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
  // htmx:load fires on every piece of content htmx inserts (and bubbles from it, unlike
  // the settle events of an element replaced by an outerHTML swap).
  document.addEventListener("htmx:load", function (event) { drawCharts(event.target); });
})();

// Copy buttons: <button data-copy-target="ID" data-copy-status="ID"> copies the text of
// the element (a readonly <textarea> or any element) with that id, and says so in the
// status element (its data-copied / data-copy-failed texts, already translated).
(function () {
  "use strict";

  function say(button, key) {
    var status = document.getElementById(button.dataset.copyStatus || "");
    if (!status) return;
    status.textContent = status.dataset[key] || "";
    clearTimeout(status._copyTimer);
    status._copyTimer = setTimeout(function () { status.textContent = ""; }, 4000);
  }

  function selectText(source) {
    if (typeof source.select === "function") {
      source.focus();
      source.select();
      return;
    }
    var range = document.createRange();
    range.selectNodeContents(source);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  // Without the asynchronous clipboard (plain http on an intranet), select the text and
  // try the old copy command; if even that fails, the text stays selected for Ctrl+C.
  function fallbackCopy(button, source) {
    selectText(source);
    var copied = false;
    try {
      copied = document.execCommand("copy");
    } catch (error) {
      copied = false;
    }
    say(button, copied ? "copied" : "copyFailed");
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy-target]");
    if (!button) return;
    var source = document.getElementById(button.dataset.copyTarget);
    if (!source) return;
    event.preventDefault();
    var text = "value" in source ? source.value : source.textContent;
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(
        function () { say(button, "copied"); },
        function () { fallbackCopy(button, source); }
      );
    } else {
      fallbackCopy(button, source);
    }
  });
})();
