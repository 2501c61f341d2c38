// One market WebSocket with reconnect (exponential backoff with jitter), a keep-alive ping
// and a "live" / "reconnecting" indicator. Used by markets.js and chart.js.
(function () {
  "use strict";

  const PING_MS = 25000;
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
    const indicator = handlers.indicator || null;
    let socket = null;
    let attempt = 0;
    let retryTimer = null;
    let pingTimer = null;
    let stopped = false;
    let everOpened = false;

    function setState(state, text) {
      if (!indicator) return;
      indicator.dataset.state = state;
      indicator.textContent = text;
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

  window.papertradeMarket = {
    connect: connect,
    formatDecimal: formatDecimal,
    formatPct: formatPct,
    direction: direction,
  };
})();
