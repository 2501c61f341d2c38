// The markets page: live bid/ask/last/change for the rows on screen over one /ws/market/
// socket. The socket lives outside the table that HTMX swaps; after a swap the subscription
// is brought in line with the rows now shown.
(function () {
  "use strict";

  const MAX_SYMBOLS = 50; // the server's per-socket limit
  const root = document.querySelector("[data-markets]");
  if (!root || root.dataset.streamStarted) return;
  root.dataset.streamStarted = "1";
  const market = window.papertradeMarket;
  let subscribed = new Set();
  let stream = null;

  function rowsOnScreen() {
    return Array.from(document.querySelectorAll("#market-table tr[data-symbol]"));
  }

  function wantedSymbols() {
    return rowsOnScreen().map(function (row) { return row.dataset.symbol; }).slice(0, MAX_SYMBOLS);
  }

  function sync() {
    if (!stream) return;
    const wanted = new Set(wantedSymbols());
    const drop = Array.from(subscribed).filter(function (s) { return !wanted.has(s); });
    const add = Array.from(wanted).filter(function (s) { return !subscribed.has(s); });
    if (drop.length && stream.send({ type: "unsubscribe", symbols: drop })) {
      drop.forEach(function (s) { subscribed.delete(s); });
    }
    if (add.length && stream.send({ type: "subscribe", symbols: add })) {
      add.forEach(function (s) { subscribed.add(s); });
    }
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

  stream = market.connect("/ws/market/", {
    indicator: root.querySelector("[data-connection-state]"),
    onOpen: function () {
      subscribed = new Set();
      sync();
    },
    onMessage: function (message) {
      if (message.type === "tick") onTick(message);
    },
  });

  // htmx replaces #market-table (outerHTML): bring the subscription in line with its rows.
  document.body.addEventListener("htmx:afterSettle", sync);
  document.body.addEventListener("pt-toast", function (event) {
    if (window.papertradeToast && event.detail) window.papertradeToast(event.detail.text, event.detail.kind);
  });
})();
