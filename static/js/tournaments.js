// Tournament pages: countdowns, and the live leaderboard.
// The leaderboard socket (/ws/tournaments/<id>/) says when standings changed; the rows are
// rendered on the server (the leaderboard fragment, with my row highlighted) and swapped in.
(function () {
  "use strict";

  // --- countdowns: <time datetime="..." data-countdown> ---------------------------------------
  function pad(n) { return String(n).padStart(2, "0"); }

  function countdownText(ms) {
    if (ms <= 0) return "now";
    const s = Math.floor(ms / 1000);
    const days = Math.floor(s / 86400);
    const hours = Math.floor((s % 86400) / 3600);
    const minutes = Math.floor((s % 3600) / 60);
    const seconds = s % 60;
    if (days > 0) return days + "d " + hours + "h " + pad(minutes) + "m";
    return hours + ":" + pad(minutes) + ":" + pad(seconds);
  }

  function tickCountdowns() {
    const now = Date.now();
    document.querySelectorAll("time[data-countdown]").forEach(function (el) {
      const at = Date.parse(el.getAttribute("datetime"));
      if (!isNaN(at)) el.textContent = countdownText(at - now);
    });
  }

  // --- the live leaderboard ---------------------------------------------------------------------
  function LiveLeaderboard(panel) {
    this.panel = panel;
    this.path = panel.getAttribute("data-standings-socket");
    this.url = panel.getAttribute("data-leaderboard-url");
    this.state = panel.querySelector("[data-connection-state]");
    this.delay = 1000;
    this.loading = false;
    this.pending = false;
    this.closed = false;
    this.connect();
  }

  LiveLeaderboard.prototype.setState = function (state, text) {
    if (!this.state) return;
    this.state.setAttribute("data-state", state);
    this.state.textContent = text;
  };

  LiveLeaderboard.prototype.connect = function () {
    const self = this;
    const scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    const socket = new WebSocket(scheme + window.location.host + this.path);
    this.socket = socket;
    socket.addEventListener("open", function () {
      self.delay = 1000;
      self.setState("live", "Live");
    });
    socket.addEventListener("message", function (event) {
      let message;
      try { message = JSON.parse(event.data); } catch (e) { return; }
      if (message.type === "standings" && !message.snapshot) {
        self.refresh();
      } else if (message.type === "tournament_status") {
        window.location.reload();
      }
    });
    socket.addEventListener("close", function (event) {
      if (self.closed) return;
      if (event.code === 4404) {
        self.setState("closed", "Not live");
        return;
      }
      self.setState("reconnecting", "Reconnecting…");
      setTimeout(function () { self.connect(); }, self.delay);
      self.delay = Math.min(self.delay * 2, 30000);
    });
  };

  // One fragment request at a time; a frame arriving meanwhile triggers one more.
  LiveLeaderboard.prototype.refresh = function () {
    const self = this;
    if (this.loading) {
      this.pending = true;
      return;
    }
    this.loading = true;
    fetch(this.url, { headers: { "HX-Request": "true" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        const target = self.panel.querySelector("#leaderboard");
        if (html && target) target.outerHTML = html;
      })
      .catch(function () { /* the next frame tries again */ })
      .finally(function () {
        self.loading = false;
        if (self.pending) {
          self.pending = false;
          self.refresh();
        }
      });
  };

  function start() {
    tickCountdowns();
    setInterval(tickCountdowns, 1000);
    document.querySelectorAll("[data-standings-socket]").forEach(function (panel) {
      if (!panel.liveLeaderboard) panel.liveLeaderboard = new LiveLeaderboard(panel);
    });
  }

  document.addEventListener("DOMContentLoaded", start);

  // Toasts sent by the server with HX-Trigger (e.g. after joining with htmx).
  document.addEventListener("pt-toast", function (event) {
    const detail = event.detail || {};
    if (window.papertradeToast && detail.text) window.papertradeToast(detail.text, detail.kind);
  });
})();
