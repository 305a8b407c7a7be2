// Sortable leaderboards. The page is complete without this script (rows arrive ranked by time to
// target); with it, the time and cost headers become buttons that reorder the rows.
(function () {
  "use strict";
  function cellValue(row, index) {
    var cell = row.cells[index];
    var raw = cell ? cell.getAttribute("data-value") : "";
    var value = raw === null || raw === "" ? NaN : parseFloat(raw);
    return isNaN(value) ? Infinity : value;  // unpriced or unreached rows sink to the bottom
  }
  function sortBy(table, header) {
    var index = header.cellIndex;
    var ascending = header.getAttribute("aria-sort") !== "ascending";
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = cellValue(a, index), y = cellValue(b, index);
      if (x === y) { return 0; }
      if (x === Infinity) { return 1; }
      if (y === Infinity) { return -1; }
      return ascending ? x - y : y - x;
    });
    rows.forEach(function (row) { body.appendChild(row); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
      th.removeAttribute("aria-sort");
    });
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    table.querySelectorAll("th[data-sortable]").forEach(function (header) {
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = header.textContent;
      button.title = "sort by " + header.textContent;
      header.textContent = "";
      header.appendChild(button);
      button.addEventListener("click", function () { sortBy(table, header); });
    });
  });
})();
