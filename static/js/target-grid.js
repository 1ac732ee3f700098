// The targets grid (/targets/edit/): fill a row with one amount, split a year's amount evenly across its periods,
// paste a row of cells copied from a spreadsheet, and count the cells changed since the page was shown. Without
// JavaScript every cell is still a plain input and the page saves the same way.
(function () {
  "use strict";

  // "1,200,000.50" or "¥ 1 200 000" as a number of cents; NaN when it is not an amount.
  function cents(text) {
    var plain = String(text || "").replace(/[\s,\u00a0¥￥]/g, "");
    if (!/^\d+(\.\d{1,2})?$/.test(plain)) return NaN;
    var parts = plain.split(".");
    return parseInt(parts[0], 10) * 100 + (parts[1] ? parseInt((parts[1] + "0").slice(0, 2), 10) : 0);
  }

  // Cents as an input shows them: whole yuan without decimals, cents only when there are some.
  function amount(value) {
    var yuan = Math.floor(value / 100), rest = value % 100;
    return rest ? yuan + "." + (rest < 10 ? "0" : "") + rest : String(yuan);
  }

  function cellsOf(row) { return Array.prototype.slice.call(row.querySelectorAll("[data-grid-cell]")); }

  function markChanged(form) {
    var count = 0;
    form.querySelectorAll("[data-grid-cell]").forEach(function (input) {
      // Against what the page first showed, so cells typed before a refused save still count as changed.
      var was = form.elements["was-" + input.name.slice("cell-".length)];
      var changed = input.value.trim() !== (was ? was.value : input.defaultValue);
      input.classList.toggle("target-grid__input--changed", changed);
      if (changed) count += 1;
    });
    var status = form.querySelector("[data-grid-changed]");
    if (status) status.textContent = count ? form.dataset.changedLabel + " " + count : "";
  }

  // Fills the row's cells with `values` from `first` on; the bulk input's row keeps its own value.
  function fill(cells, values, first) {
    values.forEach(function (value, i) {
      var input = cells[first + i];
      if (input) input.value = value;
    });
  }

  function bulkAmount(row) {
    var bulk = row.querySelector("[data-grid-bulk]");
    var value = bulk ? cents(bulk.value) : NaN;
    if (bulk) bulk.setAttribute("aria-invalid", isNaN(value) ? "true" : "false");
    if (isNaN(value) && bulk) bulk.focus();
    return value;
  }

  function setUp(form) {
    form.addEventListener("click", function (event) {
      var button = event.target.closest("[data-grid-fill], [data-grid-split]");
      if (!button) return;
      var row = button.closest("[data-grid-row]");
      var total = bulkAmount(row);
      if (isNaN(total)) return;
      var cells = cellsOf(row);
      var values;
      if (button.hasAttribute("data-grid-fill")) {
        values = cells.map(function () { return amount(total); });
      } else {
        // Even shares in whole cents; the cents left over go to the last periods, so the row adds up exactly.
        var share = Math.floor(total / cells.length), left = total - share * cells.length;
        values = cells.map(function (_cell, i) { return amount(share + (i >= cells.length - left ? 1 : 0)); });
      }
      fill(cells, values, 0);
      markChanged(form);
    });

    // Enter in a row's amount would submit the whole page before the row was filled: it does nothing there.
    form.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && event.target.matches("[data-grid-bulk]")) event.preventDefault();
    });

    // A row copied from a spreadsheet arrives as tab-separated text: one value per cell from the one pasted into.
    form.addEventListener("paste", function (event) {
      var input = event.target;
      if (!input.matches("[data-grid-cell]")) return;
      var text = (event.clipboardData || window.clipboardData).getData("text");
      var values = text.replace(/\r?\n$/, "").split(/\t|\r?\n/);
      if (values.length < 2) return;
      event.preventDefault();
      var cells = cellsOf(input.closest("[data-grid-row]"));
      fill(cells, values.map(function (value) { return value.trim(); }), cells.indexOf(input));
      markChanged(form);
    });

    form.addEventListener("input", function () { markChanged(form); });
    markChanged(form);
  }

  document.querySelectorAll("[data-target-grid]").forEach(setUp);
})();
