// The dashboard (数据看板): the trend, Pareto, emotion and sentiment charts drawn with Chart.js
// from the page's JSON block (a Pareto bar opens its tickets), and the scorecards' sorting.
"use strict";

(() => {
  if (document.body.dataset.page !== "dashboard") return;

  const palette = ["#0f766e", "#1d4f91", "#b42318", "#a15c07", "#6d28d9", "#0e7490", "#be185d", "#4d7c0f"];
  const source = document.getElementById("dashboard-charts");
  const data = source ? JSON.parse(source.textContent) : null;
  const Chart = window.Chart;
  const common = {
    maintainAspectRatio: false,
    animation: false,
    interaction: { mode: "index", intersect: false },
    plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } },
  };
  // The colour of an emotion or a sentiment says what it is: red for anger and the negative,
  // green for satisfaction and the positive, grey for calm and neutral, pale for not analysed.
  const tones = {
    angry: "#b42318", anxious: "#dc6803", disappointed: "#7a5af8", neutral: "#98a2b3",
    satisfied: "#1e7b34", negative: "#b42318", positive: "#1e7b34", unknown: "#d0d5dd",
  };
  // Short tick labels (12-01, W49): a phone has room for a few only.
  const short = (label) => String(label).replace(/^\d{4}-(W?\d+(-\d+)?)$/, "$1");
  const xAxis = (canvas) => ({
    ticks: {
      maxRotation: 0, autoSkip: true, maxTicksLimit: canvas.clientWidth < 500 ? 4 : 8,
      callback(value) { return short(this.getLabelForValue(value)); },
    },
  });

  function trend(canvas, t) {
    new Chart(canvas, {
      type: "line",
      data: {
        labels: t.labels,
        datasets: t.series.map((s, i) => ({
          label: s.label, data: s.values, borderColor: palette[i], backgroundColor: palette[i],
          yAxisID: s.minutes ? "minutes" : "percent", spanGaps: false, pointRadius: 2, tension: 0,
          borderDash: s.minutes ? [5, 3] : [],
        })),
      },
      options: {
        ...common,
        scales: {
          x: xAxis(canvas),
          percent: { type: "linear", position: "left", min: 0, max: 100, title: { display: true, text: data.words.percent } },
          minutes: { type: "linear", position: "right", beginAtZero: true, grid: { drawOnChartArea: false }, title: { display: true, text: data.words.minutes } },
        },
      },
    });
  }

  function pareto(canvas, p) {
    new Chart(canvas, {
      data: {
        labels: p.labels,
        datasets: [
          { type: "bar", label: data.words.cases, data: p.counts, backgroundColor: palette[2], yAxisID: "count", order: 2 },
          { type: "line", label: data.words.cumulative, data: p.cumulative, borderColor: palette[1], backgroundColor: palette[1], yAxisID: "share", pointRadius: 3, tension: 0, order: 1 },
        ],
      },
      options: {
        ...common,
        onClick: (_event, elements) => {
          const hit = elements.find((e) => e.datasetIndex === 0) || elements[0];
          if (hit && p.links[hit.index]) window.location.assign(p.links[hit.index]);
        },
        scales: {
          x: { ticks: { maxRotation: 40, autoSkip: false } },
          count: { type: "linear", position: "left", beginAtZero: true, ticks: { precision: 0 } },
          share: { type: "linear", position: "right", min: 0, max: 100, grid: { drawOnChartArea: false }, ticks: { callback: (v) => `${v}%` } },
        },
      },
    });
  }

  function stacked(canvas, s) {
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: s.labels,
        datasets: s.series.map((d, i) => ({
          label: d.label, data: d.values, backgroundColor: tones[d.key] || palette[i % palette.length],
        })),
      },
      options: {
        ...common,
        scales: { x: { ...xAxis(canvas), stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } },
      },
    });
  }

  if (data && Chart) {
    const draw = [
      ["trend-chart", trend, data.trend],
      ["pareto-chart", pareto, data.complaints],
      ["emotion-chart", stacked, data.emotions],
      ["sentiment-chart", stacked, data.sentiments],
    ];
    for (const [id, chart, part] of draw) {
      const canvas = document.getElementById(id);
      if (canvas) chart(canvas, part);  // a section without data has no canvas
    }
  }

  // Scorecards: a header's button sorts the rows by that column (again: the other way).
  for (const table of document.querySelectorAll("table.sortable")) {
    const heads = [...table.tHead.rows[0].cells];
    heads.forEach((th, column) => {
      const button = th.querySelector("button[data-sort]");
      if (!button) return;
      button.addEventListener("click", () => {
        const ascending = th.getAttribute("aria-sort") !== "ascending";
        for (const other of heads) other.removeAttribute("aria-sort");
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        const numeric = button.dataset.sort === "number";
        const key = (row) => row.cells[column].dataset.value || "";
        const rows = [...table.tBodies[0].rows];
        rows.sort((a, b) => {
          const x = key(a), y = key(b);
          if (numeric) {
            if (x === "" || y === "") return (x === "") - (y === "");  // no data last
            return ascending ? Number(x) - Number(y) : Number(y) - Number(x);
          }
          return ascending ? x.localeCompare(y, "zh-CN") : y.localeCompare(x, "zh-CN");
        });
        table.tBodies[0].append(...rows);
      });
    });
  }
})();
