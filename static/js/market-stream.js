// The page's one WebSocket: reconnect (exponential backoff with jitter), a keep-alive ping and
// a "live" / "reconnecting" indicator ([data-connection-state]).
//
// papertradeMarket.page() is that socket, shared by every script on the page: the account
// socket when the page shows an account (live.js's [data-live][data-account-id] root), else
// /ws/market/. Both take subscribe/unsubscribe for ticks; the page follows the symbols on
// screen ([data-tick-symbol], re-read after each htmx swap) plus those scripts ask for.
(function () {
  "use strict";

  const PING_MS = 25000;
  const MAX_SYMBOLS = 50; // the server's per-socket limit
  const CLOSE_NOT_FOUND = 4404;

  function streamUrl(path) {
    return (window.location.protocol === "https:" ? "wss://" : "ws://") + window.location.host + path;
  }

  // Formats a decimal string to DECIMALS places without going through a float.
  function formatDecimal(text, decimals) {
    if (text === null || text === undefined || text === "") return "—";
    const negative = text.charAt(0) === "-";
    const body = negative ? text.slice(1) : text;
    const parts = body.split(".");
    let result = parts[0];
    if (decimals > 0) {
      result += "." + ((parts[1] || "") + "0".repeat(decimals)).slice(0, decimals);
    }
    return (negative ? "-" : "") + result;
  }

  function formatPct(text) {
    const value = Number(text);
    if (!isFinite(value)) return "—";
    const fixed = value.toFixed(2);
    if (fixed === "0.00" || fixed === "-0.00") return "0.00%";
    return (value > 0 ? "+" : "") + fixed + "%";
  }

  function direction(text) {
    const value = Number(text);
    if (!isFinite(value) || value.toFixed(2) === "0.00" || value.toFixed(2) === "-0.00") return "";
    return value > 0 ? "up" : "down";
  }

  function connect(path, handlers) {
    const indicators = handlers.indicators || [];
    let socket = null;
    let attempt = 0;
    let retryTimer = null;
    let pingTimer = null;
    let stopped = false;
    let everOpened = false;

    function setState(state, text) {
      indicators.forEach(function (indicator) {
        indicator.dataset.state = state;
        indicator.textContent = text;
      });
    }

    function scheduleRetry() {
      attempt += 1;
      const base = Math.min(30000, 500 * Math.pow(2, Math.min(attempt, 6)));
      const delay = base / 2 + Math.random() * base / 2;
      setState("reconnecting", "Reconnecting…");
      retryTimer = window.setTimeout(open, delay);
    }

    function open() {
      retryTimer = null;
      if (stopped) return;
      if (!everOpened) setState("connecting", "Connecting…");
      socket = new WebSocket(streamUrl(path));
      socket.addEventListener("open", function () {
        const reconnected = everOpened;
        attempt = 0;
        everOpened = true;
        setState("live", "● Live");
        window.clearInterval(pingTimer);
        pingTimer = window.setInterval(function () { api.send({ type: "ping" }); }, PING_MS);
        if (handlers.onOpen) handlers.onOpen(api, reconnected);
      });
      socket.addEventListener("message", function (event) {
        let message;
        try {
          message = JSON.parse(event.data);
        } catch (err) {
          return;
        }
        if (message && handlers.onMessage) handlers.onMessage(message);
      });
      socket.addEventListener("close", function (event) {
        socket = null;
        window.clearInterval(pingTimer);
        if (stopped) return;
        if (event.code === CLOSE_NOT_FOUND) {
          setState("closed", "Unavailable");
          return;
        }
        scheduleRetry();
      });
    }

    const api = {
      send: function (message) {
        if (socket && socket.readyState === WebSocket.OPEN) {
          socket.send(JSON.stringify(message));
          return true;
        }
        return false;
      },
      close: function () {
        stopped = true;
        window.clearTimeout(retryTimer);
        window.clearInterval(pingTimer);
        if (socket) socket.close(1000);
      },
    };
    window.addEventListener("pagehide", api.close);
    window.addEventListener("pageshow", function (event) {
      // Back/forward cache: the page comes back without its socket.
      if (event.persisted && stopped) {
        stopped = false;
        open();
      }
    });
    open();
    return api;
  }

  // Scripts register their handlers while the page loads; the socket opens once they all have.
  let domReady = document.readyState !== "loading";
  const whenReady = [];
  if (!domReady) {
    document.addEventListener("DOMContentLoaded", function () {
      domReady = true;
      whenReady.splice(0).forEach(function (fn) { fn(); });
    });
  }

  let pageStream = null;

  function page() {
    if (pageStream) return pageStream;
    const root = document.querySelector("[data-live][data-account-id]");
    const path = root ? "/ws/accounts/" + encodeURIComponent(root.dataset.accountId) + "/" : "/ws/market/";
    const sources = [];
    const listeners = { tick: [], event: [], open: [] };
    let subscribed = new Set();
    let stream = null;

    function wanted() {
      const symbols = new Set();
      sources.forEach(function (source) {
        (typeof source === "function" ? source() : source).forEach(function (s) { symbols.add(s); });
      });
      document.querySelectorAll("[data-tick-symbol]").forEach(function (el) {
        symbols.add(el.dataset.tickSymbol);
      });
      return Array.from(symbols).slice(0, MAX_SYMBOLS);
    }

    function sync() {
      if (!stream) return;
      const want = new Set(wanted());
      const drop = Array.from(subscribed).filter(function (s) { return !want.has(s); });
      const add = Array.from(want).filter(function (s) { return !subscribed.has(s); });
      if (drop.length && stream.send({ type: "unsubscribe", symbols: drop })) {
        drop.forEach(function (s) { subscribed.delete(s); });
      }
      if (add.length && stream.send({ type: "subscribe", symbols: add })) {
        add.forEach(function (s) { subscribed.add(s); });
      }
    }

    function start() {
      stream = connect(path, {
        indicators: Array.from(document.querySelectorAll("[data-connection-state]")),
        onOpen: function (api, reconnected) {
          subscribed = new Set();
          sync();
          listeners.open.forEach(function (fn) { fn(reconnected); });
        },
        onMessage: function (message) {
          const kind = message.type === "tick" ? "tick" : "event";
          listeners[kind].forEach(function (fn) { fn(message); });
        },
      });
      // htmx swaps bring new rows (and drop old ones): follow what is on screen now.
      document.body.addEventListener("htmx:afterSettle", sync);
    }

    if (domReady) window.setTimeout(start, 0);
    else whenReady.push(start);

    pageStream = {
      path: path,
      // SYMBOLS: an array, or a function returning the symbols to follow now.
      follow: function (symbols) { sources.push(symbols); sync(); },
      sync: sync,
      onTick: function (fn) { listeners.tick.push(fn); },
      onEvent: function (fn) { listeners.event.push(fn); },
      onOpen: function (fn) { listeners.open.push(fn); },
    };
    return pageStream;
  }

  window.papertradeMarket = {
    page: page,
    formatDecimal: formatDecimal,
    formatPct: formatPct,
    direction: direction,
  };
})();
