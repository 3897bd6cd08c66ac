// Drag and drop for a template's items (<ol data-sortable>, each <li draggable="true"
// data-move-url="…">): dropping an item posts its new 1-based position to the same URL
// as its Move up / Move down buttons, and htmx swaps the list. Without JavaScript (or
// from the keyboard) the buttons do the same. No inline scripts (see the CSP).
(function () {
  "use strict";
  var dragged = null;

  function listOf(element) {
    return element && element.closest ? element.closest("ol[data-sortable]") : null;
  }

  document.addEventListener("dragstart", function (event) {
    var item = event.target.closest && event.target.closest("li[data-move-url]");
    if (!item || !listOf(item)) return;
    dragged = item;
    item.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", item.dataset.item || "");
  });

  document.addEventListener("dragover", function (event) {
    if (!dragged) return;
    var over = event.target.closest && event.target.closest("li[data-move-url]");
    if (!over || over === dragged || listOf(over) !== listOf(dragged)) return;
    event.preventDefault();
    var box = over.getBoundingClientRect();
    var after = event.clientY > box.top + box.height / 2;
    over.parentNode.insertBefore(dragged, after ? over.nextSibling : over);
  });

  document.addEventListener("drop", function (event) {
    if (dragged) event.preventDefault();
  });

  document.addEventListener("dragend", function () {
    if (!dragged) return;
    var item = dragged;
    dragged = null;
    item.classList.remove("dragging");
    var items = Array.prototype.slice.call(listOf(item).querySelectorAll("li[data-move-url]"));
    var position = items.indexOf(item) + 1;
    if (typeof htmx === "undefined" || position < 1) return;
    htmx.ajax("POST", item.dataset.moveUrl, {
      source: item,
      target: "#item-list",
      swap: "outerHTML",
      values: { position: String(position) }
    });
  });
})();
