// The calendar's page behaviour (no inline scripts; see the CSP in settings).
// - The entry dialog: htmx loads the form into #entry-dialog-body, which opens the
//   <dialog>; [data-dialog-close] closes it; a saved entry answers with the
//   "calendar-changed" event, which closes it (and #calendar refreshes itself).
// - The entry form shows only the fields that apply ([data-show-when="weekly custom"]
//   against the repeat and invitation choices); without JavaScript all are shown.
(function () {
  "use strict";

  function dialog() { return document.getElementById("entry-dialog"); }

  function toggleFields(root) {
    var form = (root || document).querySelector ? (root || document).querySelector("#entry-form") : null;
    if (!form && root && root.id === "entry-form") form = root;
    if (!form) return;
    var chosen = [];
    ["repeat", "invite_scope"].forEach(function (name) {
      var field = form.querySelector("[name='" + name + "']");
      if (field) chosen.push(field.value);
    });
    form.querySelectorAll("[data-show-when]").forEach(function (element) {
      var wanted = element.dataset.showWhen.split(" ");
      element.hidden = !wanted.some(function (value) { return chosen.indexOf(value) !== -1; });
    });
  }

  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (target && (target.id === "entry-dialog-body" || target.id === "entry-form")) {
      var box = dialog();
      if (box && !box.open) box.showModal();
      toggleFields(document);
    }
  });

  document.addEventListener("change", function (event) {
    if (event.target.closest && event.target.closest("#entry-form")) toggleFields(document);
  });

  document.addEventListener("click", function (event) {
    var closer = event.target.closest("[data-dialog-close]");
    var box = dialog();
    if (!closer || !box || !box.contains(closer)) return;
    event.preventDefault();
    box.close();
  });

  document.body && document.body.addEventListener("calendar-changed", close);
  document.addEventListener("DOMContentLoaded", function () {
    document.body.addEventListener("calendar-changed", close);
    toggleFields(document);
  });

  function close() {
    var box = dialog();
    if (box && box.open) box.close();
    var body = document.getElementById("entry-dialog-body");
    if (body) body.innerHTML = "";
  }
})();
