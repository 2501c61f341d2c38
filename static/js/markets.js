// The markets page: live bid/ask/last/change for the rows on screen over the page's socket
// (market-stream.js), which lives outside the table that HTMX swaps and follows the rows
// shown after each swap.
(function () {
  "use strict";

  const root = document.querySelector("[data-markets]");
  if (!root || root.dataset.streamStarted) return;
  root.dataset.streamStarted = "1";
  const market = window.papertradeMarket;

  function symbolsOnScreen() {
    return Array.from(document.querySelectorAll("#market-table tr[data-symbol]")).map(function (row) {
      return row.dataset.symbol;
    });
  }

  function setCell(row, field, text, className) {
    const cell = row.querySelector('[data-field="' + field + '"]');
    if (!cell) return null;
    if (cell.textContent !== text) cell.textContent = text;
    if (className !== undefined) {
      cell.classList.remove("up", "down");
      if (className) cell.classList.add(className);
    }
    return cell;
  }

  function flash(cell, previous, next) {
    if (!cell || previous === next) return;
    const up = Number(next) > Number(previous);
    cell.classList.remove("flash-up", "flash-down");
    void cell.offsetWidth; // restart the animation
    cell.classList.add(up ? "flash-up" : "flash-down");
  }

  function onTick(tick) {
    const row = document.querySelector('#market-table tr[data-symbol="' + CSS.escape(tick.symbol) + '"]');
    if (!row) return;
    if (row.dataset.ts && tick.ts < row.dataset.ts) return; // an older snapshot
    row.dataset.ts = tick.ts;
    const decimals = Number(row.dataset.decimals || "2");
    const previous = row.dataset.last;
    setCell(row, "bid", market.formatDecimal(tick.bid, decimals));
    setCell(row, "ask", market.formatDecimal(tick.ask, decimals));
    const last = setCell(row, "last", market.formatDecimal(tick.last, decimals));
    setCell(row, "change_pct", market.formatPct(tick.change_pct), market.direction(tick.change_pct));
    if (previous !== undefined) flash(last, previous, tick.last);
    row.dataset.last = tick.last;
  }

  const stream = market.page();
  stream.follow(symbolsOnScreen);
  stream.onTick(onTick);

  document.body.addEventListener("pt-toast", function (event) {
    if (window.papertradeToast && event.detail) window.papertradeToast(event.detail.text, event.detail.kind);
  });
})();
