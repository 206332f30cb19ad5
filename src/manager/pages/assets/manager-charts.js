// The dashboard's six charts of the last 30 minutes, one point per minute (Chart.js 4, loaded first).
(function () {
  const MIB = 1024 * 1024;
  const SPECS = [
    { id: 'chart-nodes', color: '#2f6fde', value: (p) => p.poolSize, stepped: true, yMax: 8 },
    { id: 'chart-miss', color: '#c0392b', value: (p) => round(p.missRate * 100), yMax: 100 },
    { id: 'chart-hit', color: '#1e8e3e', value: (p) => round(p.hitRate * 100), yMax: 100 },
    { id: 'chart-items', color: '#7b4fd6', value: (p) => p.items },
    { id: 'chart-size', color: '#d97706', value: (p) => round(p.bytes / MIB) },
    { id: 'chart-requests', color: '#0e8fa3', value: (p) => p.requests, bar: true },
  ];

  function round(x) {
    return Math.round(x * 100) / 100;
  }

  function minuteLabel(iso) {
    const d = new Date(iso);
    return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
  }

  function options(spec) {
    return {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      plugins: { legend: { display: false }, tooltip: { intersect: false, mode: 'index' } },
      scales: {
        x: {
          ticks: { maxTicksLimit: 6, maxRotation: 0, color: '#5f6b7a' },
          grid: { display: false },
        },
        y: {
          beginAtZero: true,
          max: spec.yMax === 100 ? 100 : undefined,
          suggestedMax: spec.yMax === 8 ? 4 : undefined,
          ticks: { precision: 0, maxTicksLimit: 5, color: '#5f6b7a' },
          grid: { color: '#eef1f5' },
        },
      },
    };
  }

  function create() {
    return SPECS.map((spec) => {
      const canvas = document.getElementById(spec.id);
      const dataset = {
        data: [],
        borderColor: spec.color,
        backgroundColor: spec.bar ? `${spec.color}b3` : `${spec.color}1f`,
        borderWidth: spec.bar ? 0 : 2,
        pointRadius: 2,
        pointHoverRadius: 4,
        fill: !spec.bar,
        tension: spec.stepped ? 0 : 0.25,
        stepped: spec.stepped ? 'middle' : false,
        borderRadius: spec.bar ? 3 : 0,
      };
      const chart = new window.Chart(canvas, {
        type: spec.bar ? 'bar' : 'line',
        data: { labels: [], datasets: [dataset] },
        options: options(spec),
      });
      return { spec, chart, canvas };
    });
  }

  /** Every chart shows exactly the points given; data-points says how many, for tests and tools. */
  function update(charts, points) {
    const labels = points.map((p) => minuteLabel(p.minute));
    for (const { spec, chart, canvas } of charts) {
      chart.data.labels = labels;
      chart.data.datasets[0].data = points.map(spec.value);
      chart.update('none');
      canvas.dataset.points = String(points.length);
    }
  }

  window.PixpoolCharts = { create, update };
})();
