// Live updates of the trading pages over the page's ONE socket (market-stream.js): the account
// socket (/ws/accounts/<id>/, session cookie) carries the account's order/fill/position/balance
// events and the ticks of the symbols on screen ([data-tick-symbol]) and of the chart.
//
// - market-stream.js reconnects with backoff, pings and shows "Reconnecting…".
// - Regions marked [data-live-part][data-live-url][data-live-on] are re-fetched with htmx
//   (outerHTML) when one of their events arrives; "tick" regions at most every few seconds.
//   The server computes every number: ticks only re-format the prices it already shows.
// - A gap in the account's `seq` (or a snapshot ahead of the page) re-fetches every region.
// - Toasts: `pt-toast` (HX-Trigger from our views) and fills / rejections / cancellations
//   from the socket, de-duplicated per order. `pt-refresh` reloads the named parts.
// The script lives outside the swapped regions and starts once per page.
(function () {
  "use strict";

  const market = window.papertradeMarket;
  if (!market || window.papertradeLive) return;
  window.papertradeLive = { started: true };

  const TICK_REFRESH_MS = 3000;
  const DEDUPE_MS = 8000;

  // --- toasts -----------------------------------------------------------------------------------
  const toasted = new Map(); // order id -> time of its last toast

  function toast(text, kind, orderId) {
    if (orderId !== undefined && orderId !== null) {
      const key = String(orderId);
      const last = toasted.get(key);
      if (last && Date.now() - last < DEDUPE_MS) return;
      toasted.set(key, Date.now());
    }
    if (window.papertradeToast) window.papertradeToast(text, kind);
  }

  document.body.addEventListener("pt-toast", function (event) {
    const d = event.detail || {};
    if (d.text) toast(d.text, d.kind, d.order);
  });

  // --- regions ----------------------------------------------------------------------------------
  const pending = new Set();
  const inflight = new Set();
  let flushTimer = null;

  function region(name) {
    return document.querySelector('[data-live-part="' + CSS.escape(name) + '"]');
  }

  function busy(el) {
    // Never replace what the person is typing into or has opened.
    const active = document.activeElement;
    if (active && el.contains(active) && active.matches("input, select, textarea")) return true;
    return !!el.querySelector("details[open]");
  }

  function refresh(names) {
    names.forEach(function (name) { if (region(name)) pending.add(name); });
    if (pending.size && !flushTimer) flushTimer = window.setTimeout(flush, 150);
  }

  function refreshAll() {
    refresh(Array.from(document.querySelectorAll("[data-live-part]")).map(function (el) {
      return el.dataset.livePart;
    }));
  }

  function flush() {
    flushTimer = null;
    const names = Array.from(pending);
    pending.clear();
    names.forEach(function (name) {
      const el = region(name);
      if (!el || !window.htmx || inflight.has(name)) return;
      if (busy(el)) {
        el.dataset.liveStale = "1";
        return;
      }
      inflight.add(name);
      // source: the region (not <body>), so only its own indicators react.
      window.htmx.ajax("GET", el.dataset.liveUrl, { source: el, target: el, swap: "outerHTML" })
        .catch(function () { /* the next event or resync tries again */ })
        .finally(function () { inflight.delete(name); });
    });
  }

  // A region skipped while in use is refreshed once the person leaves it.
  document.addEventListener("focusout", function () {
    window.setTimeout(function () {
      document.querySelectorAll("[data-live-stale]").forEach(function (el) {
        if (!busy(el)) {
          delete el.dataset.liveStale;
          refresh([el.dataset.livePart]);
        }
      });
    }, 200);
  });

  function partsFor(eventType) {
    return Array.from(document.querySelectorAll("[data-live-part]"))
      .filter(function (el) { return (el.dataset.liveOn || "").split(" ").indexOf(eventType) >= 0; })
      .map(function (el) { return el.dataset.livePart; });
  }

  document.body.addEventListener("pt-refresh", function (event) {
    const parts = (event.detail && event.detail.parts) || [];
    refresh(parts);
  });

  // --- tick formatting and throttled P&L refresh ------------------------------------------------
  let tickDirty = false;
  let tickTimer = null;

  function onTick(tick) {
    const rows = document.querySelectorAll('[data-tick-symbol="' + CSS.escape(tick.symbol) + '"]');
    if (!rows.length) return;
    rows.forEach(function (row) {
      const decimals = Number(row.dataset.decimals || "2");
      row.querySelectorAll("[data-tick-field]").forEach(function (cell) {
        const field = cell.dataset.tickField;
        if (!(field in tick)) return;
        if (field === "change_pct") {
          cell.textContent = market.formatPct(tick.change_pct);
          cell.classList.remove("up", "down");
          const dir = market.direction(tick.change_pct);
          if (dir) cell.classList.add(dir);
        } else {
          cell.textContent = market.formatDecimal(tick[field], decimals);
        }
      });
    });
    tickDirty = true;
    if (!tickTimer) {
      tickTimer = window.setTimeout(function () {
        tickTimer = null;
        if (tickDirty) {
          tickDirty = false;
          refresh(partsFor("tick"));
        }
      }, TICK_REFRESH_MS);
    }
  }

  // --- small conveniences -----------------------------------------------------------------------
  document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
    const fallback = form.querySelector("[data-autosubmit-fallback]");
    if (fallback) fallback.hidden = true;
    form.addEventListener("change", function () { form.requestSubmit(); });
  });

  const stream = market.page();
  stream.onTick(onTick);

  const root = document.querySelector("[data-live]");
  if (!root || !root.dataset.accountId) return;

  // --- the account socket -----------------------------------------------------------------------
  let lastSeq = Number(root.dataset.seq || "0");

  function symbolDecimals(symbol) {
    const el = document.querySelector('[data-tick-symbol="' + CSS.escape(symbol) + '"][data-decimals]');
    return el ? Number(el.dataset.decimals) : null;
  }

  function trimmed(text) {
    if (!text || text.indexOf(".") < 0) return text || "";
    return text.replace(/0+$/, "").replace(/\.$/, "");
  }

  function notify(event) {
    if (event.type === "fill") {
      const decimals = symbolDecimals(event.symbol);
      const price = decimals === null ? trimmed(event.price) : market.formatDecimal(event.price, decimals);
      const verb = event.side === "buy" ? "Bought" : "Sold";
      toast(verb + " " + trimmed(event.quantity) + " " + event.symbol + " at " + price +
        " (order #" + event.order_id + ").", "success", event.order_id);
    } else if (event.type === "order_update" &&
               ["rejected", "canceled", "expired"].indexOf(event.status) >= 0) {
      const reason = event.reject_reason ? ": " + event.reject_reason : "";
      toast("Order #" + event.id + " " + event.status + reason + ".", "error", event.id);
    }
  }

  stream.onEvent(function (message) {
    if (message.type === "snapshot") {
      // Anything after the state this page was rendered from: fetch it again.
      if (typeof message.seq === "number" && message.seq > lastSeq) {
        lastSeq = message.seq;
        refreshAll();
      }
      return;
    }
    if (typeof message.seq !== "number" || message.seq <= lastSeq) return;
    const gap = message.seq > lastSeq + 1;
    lastSeq = message.seq;
    if (gap) refreshAll();
    else refresh(partsFor(message.type));
    notify(message);
  });
})();
