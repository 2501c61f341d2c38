// Equity over time: a lightweight-charts (v5) line series from the page's embedded JSON
// (json_script; values are decimal strings, turned into numbers only to draw).
(function () {
  "use strict";

  const LC = window.LightweightCharts;
  const root = document.querySelector("[data-equity-chart]");
  if (!LC || !root || root.dataset.chartStarted) return;
  const source = document.getElementById(root.dataset.source);
  const points = source ? JSON.parse(source.textContent) : [];
  if (points.length < 2) return; // the empty state says why
  root.dataset.chartStarted = "1";

  function cssVar(name, fallback) {
    const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return value || fallback;
  }

  const chart = LC.createChart(root, {
    autoSize: true,
    timeScale: { timeVisible: true, secondsVisible: false },
    rightPriceScale: { scaleMargins: { top: 0.1, bottom: 0.1 } },
    handleScroll: false,
    handleScale: false,
  });
  const series = chart.addSeries(LC.LineSeries, {
    lineWidth: 2,
    priceFormat: { type: "price", precision: 2, minMove: 0.01 },
  });
  series.setData(points.map(function (p) { return { time: p.time, value: Number(p.value) }; }));
  chart.timeScale().fitContent();

  function applyTheme() {
    const grid = cssVar("--pico-muted-border-color", "#e0e0e0");
    chart.applyOptions({
      layout: { background: { type: "solid", color: "transparent" }, textColor: cssVar("--pico-color", "#333") },
      grid: { vertLines: { color: grid }, horzLines: { color: grid } },
    });
    series.applyOptions({ color: cssVar("--pico-primary", "#0172ad") });
  }
  applyTheme();
  new MutationObserver(applyTheme).observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
})();
