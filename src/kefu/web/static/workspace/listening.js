// The listening page (舆情): the chart of mentions and their negative share, drawn with Chart.js
// from the page's JSON block, and the widths of the topic bars (no inline styles: the CSP).
"use strict";

(() => {
  if (document.body.dataset.page !== "listening") return;

  for (const bar of document.querySelectorAll(".topic-list .bar > span[data-share]")) {
    bar.style.width = `${Math.max(2, Math.min(100, Number(bar.dataset.share) || 0))}%`;
  }

  const source = document.getElementById("listening-chart");
  const canvas = document.getElementById("mentions-chart");
  if (!source || !canvas || !window.Chart) return;
  const data = JSON.parse(source.textContent);
  const styles = getComputedStyle(document.documentElement);
  const accent = styles.getPropertyValue("--accent").trim() || "#0f766e";
  const danger = styles.getPropertyValue("--danger").trim() || "#d92d20";

  new window.Chart(canvas, {
    data: {
      labels: data.labels,
      datasets: [
        {
          type: "bar",
          label: data.words.mentions,
          data: data.counts,
          backgroundColor: accent,
          yAxisID: "count",
          order: 2,
        },
        {
          type: "line",
          label: data.words.negativeShare,
          data: data.negativeShare,
          borderColor: danger,
          backgroundColor: danger,
          pointRadius: 2,
          tension: 0,  // straight segments: a share never shown beyond 0–100 %
          yAxisID: "share",
          order: 1,
        },
      ],
    },
    options: {
      maintainAspectRatio: false,
      animation: false,
      interaction: { mode: "index", intersect: false },
      plugins: { legend: { position: "bottom" } },
      scales: {
        count: { type: "linear", position: "left", beginAtZero: true, ticks: { precision: 0 } },
        share: {
          type: "linear", position: "right", min: 0, max: 100,
          grid: { drawOnChartArea: false },
          ticks: { callback: (value) => `${value}%` },
        },
        x: { ticks: { maxRotation: 0, autoSkip: true, maxTicksLimit: 12 } },
      },
    },
  });
})();
