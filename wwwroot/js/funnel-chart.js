// Draws the migration funnel from the canvas's data-funnel attribute (no inline script: CSP).
(function () {
  'use strict';
  var canvas = document.getElementById('funnel-chart');
  if (!canvas || typeof Chart === 'undefined') return;
  var data = JSON.parse(canvas.getAttribute('data-funnel'));
  var palette = ['#1f3a5f', '#2e86ab', '#a23b72', '#f18f01', '#c73e1d', '#3b1f2b', '#44bba4'];
  data.datasets.forEach(function (set, i) {
    set.backgroundColor = palette[i % palette.length];
  });
  canvas.chart = new Chart(canvas, {
    type: 'bar',
    data: data,
    options: {
      responsive: true,
      animation: false,
      scales: { y: { beginAtZero: true, ticks: { precision: 0 } } }
    }
  });
})();
