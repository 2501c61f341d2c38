// The trade page: a candlestick chart with volume (lightweight-charts v5), a timeframe
// switcher that loads candles from the API, and the forming candle and the quote panel
// updated by each tick of the symbol on the page's socket (market-stream.js).
(function () {
  "use strict";

  const SECONDS = { "1m": 60, "5m": 300, "15m": 900, "1h": 3600, "1d": 86400 };
  const root = document.querySelector("[data-chart]");
  const LC = window.LightweightCharts;
  if (!root || root.dataset.chartStarted) return;
  root.dataset.chartStarted = "1";
  const market = window.papertradeMarket;
  const page = document.querySelector("[data-trade]");
  const status = document.querySelector("[data-chart-status]");
  const quotePanel = document.querySelector("[data-quote]");
  const decimals = Number(root.dataset.decimals || "2");
  const tickSize = Number(root.dataset.tickSize || "0.01");

  let timeframe = root.dataset.timeframe in SECONDS ? root.dataset.timeframe : "1m";
  let lastBar = null;
  let lastVolume = null;
  let loading = null;
  let candleSeries = null;
  let volumeSeries = null;
  let chart = null;

  function cssVar(name, fallback) {
    const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return value || fallback;
  }

  function colours() {
    return {
      up: cssVar("--pt-up", "#138a4a"),
      down: cssVar("--pt-down", "#c62828"),
      text: cssVar("--pico-color", "#333"),
      grid: cssVar("--pico-muted-border-color", "#e0e0e0"),
    };
  }

  function applyTheme() {
    const c = colours();
    chart.applyOptions({
      layout: { background: { type: "solid", color: "transparent" }, textColor: c.text },
      grid: { vertLines: { color: c.grid }, horzLines: { color: c.grid } },
    });
    candleSeries.applyOptions({
      upColor: c.up, downColor: c.down, wickUpColor: c.up, wickDownColor: c.down, borderVisible: false,
    });
  }

  function setStatus(text) {
    if (status) status.textContent = text;
  }

  function toBar(c) {
    return {
      time: Math.floor(Date.parse(c.t) / 1000),
      open: Number(c.o), high: Number(c.h), low: Number(c.l), close: Number(c.c),
    };
  }

  function volumeBar(bar, volume) {
    const c = colours();
    return { time: bar.time, value: volume, color: (bar.close >= bar.open ? c.up : c.down) + "66" };
  }

  function load() {
    if (loading) loading.abort();
    const controller = new AbortController();
    loading = controller;
    setStatus("Loading…");
    const url = root.dataset.candlesUrl + "?timeframe=" + encodeURIComponent(timeframe) + "&limit=500";
    fetch(url, { headers: { Accept: "application/json" }, signal: controller.signal, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (rows) {
        const bars = rows.map(toBar);
        candleSeries.setData(bars);
        volumeSeries.setData(rows.map(function (row, i) { return volumeBar(bars[i], Number(row.v)); }));
        lastBar = bars.length ? bars[bars.length - 1] : null;
        lastVolume = rows.length ? Number(rows[rows.length - 1].v) : null;
        chart.timeScale().scrollToRealTime();
        setStatus(bars.length ? "" : "No candles yet.");
      })
      .catch(function (err) {
        if (err.name === "AbortError") return;
        setStatus("Could not load candles.");
      })
      .finally(function () {
        if (loading === controller) loading = null;
      });
  }

  function updateQuote(tick) {
    if (!quotePanel) return;
    if (quotePanel.dataset.ts && tick.ts < quotePanel.dataset.ts) return;
    quotePanel.dataset.ts = tick.ts;
    ["bid", "ask", "last"].forEach(function (field) {
      const cell = quotePanel.querySelector('[data-field="' + field + '"]');
      if (cell) cell.textContent = market.formatDecimal(tick[field], decimals);
    });
    // Ticks carry no day range: widen it when the last price leaves it.
    const high = quotePanel.querySelector('[data-field="day_high"]');
    const low = quotePanel.querySelector('[data-field="day_low"]');
    const last = Number(tick.last);
    if (high && (!isFinite(Number(high.textContent)) || last > Number(high.textContent))) {
      high.textContent = market.formatDecimal(tick.last, decimals);
    }
    if (low && (!isFinite(Number(low.textContent)) || last < Number(low.textContent))) {
      low.textContent = market.formatDecimal(tick.last, decimals);
    }
    const change = quotePanel.querySelector('[data-field="change_pct"]');
    if (change) {
      change.textContent = market.formatPct(tick.change_pct);
      change.classList.remove("up", "down");
      const dir = market.direction(tick.change_pct);
      if (dir) change.classList.add(dir);
    }
    if (page) document.title = market.formatDecimal(tick.last, decimals) + " " + tick.symbol + " · Papertrade";
  }

  function updateForming(tick) {
    if (!lastBar || loading) return;
    const price = Number(tick.last);
    const seconds = SECONDS[timeframe];
    const bucket = Math.floor(Math.floor(Date.parse(tick.ts) / 1000) / seconds) * seconds;
    if (!isFinite(price) || bucket < lastBar.time) return;
    // A snapshot repeats the last tick, whose volume the loaded candle already holds.
    const volume = tick.snapshot ? 0 : Number(tick.volume) || 0;
    if (bucket === lastBar.time) {
      lastBar = {
        time: lastBar.time, open: lastBar.open, close: price,
        high: Math.max(lastBar.high, price), low: Math.min(lastBar.low, price),
      };
      lastVolume = (lastVolume || 0) + volume;
    } else {
      lastBar = { time: bucket, open: price, high: price, low: price, close: price };
      lastVolume = volume;
    }
    candleSeries.update(lastBar);
    volumeSeries.update(volumeBar(lastBar, lastVolume));
  }

  function selectTimeframe(next) {
    if (!(next in SECONDS) || next === timeframe) return;
    timeframe = next;
    document.querySelectorAll("[data-timeframe]").forEach(function (button) {
      const active = button.dataset.timeframe === timeframe;
      button.setAttribute("aria-pressed", active ? "true" : "false");
      button.classList.toggle("secondary", !active);
    });
    const url = new URL(window.location.href);
    url.searchParams.set("timeframe", timeframe);
    window.history.replaceState(null, "", url);
    load();
  }

  function start() {
    chart = LC.createChart(root, {
      autoSize: true,
      timeScale: { timeVisible: true, secondsVisible: false, rightOffset: 3 },
      rightPriceScale: { scaleMargins: { top: 0.08, bottom: 0.25 } },
      crosshair: { mode: LC.CrosshairMode.Normal },
    });
    candleSeries = chart.addSeries(LC.CandlestickSeries, {
      priceFormat: { type: "price", precision: decimals, minMove: tickSize },
    });
    volumeSeries = chart.addSeries(LC.HistogramSeries, {
      priceFormat: { type: "volume" }, priceScaleId: "", lastValueVisible: false, priceLineVisible: false,
    });
    volumeSeries.priceScale().applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
    applyTheme();
    new MutationObserver(applyTheme).observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });

    document.querySelectorAll("a[data-timeframe]").forEach(function (link) {
      link.addEventListener("click", function (event) {
        event.preventDefault();
        selectTimeframe(link.dataset.timeframe);
      });
    });
    load();
    const stream = market.page();
    stream.follow([root.dataset.symbol]);
    stream.onOpen(function (reconnected) {
      if (reconnected) load(); // fill the gap while we were away
    });
    stream.onTick(function (tick) {
      if (tick.symbol !== root.dataset.symbol) return;
      updateQuote(tick);
      updateForming(tick);
    });
  }

  if (!LC) {
    setStatus("The chart library did not load.");
    return;
  }
  start();
})();
