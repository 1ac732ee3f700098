// Charts of the analytics pages, drawn with Chart.js (served from our static files) from data the page embeds
// with json_script. A canvas says which chart it is (data-chart) and where its data is (data-source).
(function () {
  "use strict";

  var lang = document.documentElement.lang || "zh-hans";
  var locale = lang === "zh-hans" ? "zh-CN" : lang;
  var compact = new Intl.NumberFormat(locale, { notation: "compact", maximumFractionDigits: 1 });
  var whole = new Intl.NumberFormat(locale, { maximumFractionDigits: 0 });

  function yuan(value) {
    return "¥" + compact.format(value);
  }

  // Log axes: label only 1, 2 and 5 times a power of ten, so ticks do not crowd.
  // On a narrow chart only the powers of ten themselves.
  function logTick(value) {
    var lead = value / Math.pow(10, Math.floor(Math.log10(value) + 1e-9));
    var shown = this.chart.width < 500 ? [1] : [1, 2, 5];
    return shown.indexOf(Math.round(lead)) >= 0 && Math.abs(lead - Math.round(lead)) < 1e-6 ? yuan(value) : "";
  }

  function readData(canvas) {
    var source = document.getElementById(canvas.getAttribute("data-source"));
    return source ? JSON.parse(source.textContent) : null;
  }

  // Dashed threshold lines at x = pv_threshold and y = cv_threshold, drawn under the points.
  var thresholdLines = {
    id: "thresholdLines",
    beforeDatasetsDraw: function (chart, args, options) {
      var ctx = chart.ctx;
      var area = chart.chartArea;
      ctx.save();
      ctx.setLineDash([6, 4]);
      ctx.lineWidth = 1.5;
      ctx.strokeStyle = "#64748b";
      if (options.x !== null && options.x !== undefined) {
        var x = chart.scales.x.getPixelForValue(options.x);
        if (x >= area.left && x <= area.right) {
          ctx.beginPath();
          ctx.moveTo(x, area.top);
          ctx.lineTo(x, area.bottom);
          ctx.stroke();
        }
      }
      if (options.y !== null && options.y !== undefined) {
        var y = chart.scales.y.getPixelForValue(options.y);
        if (y >= area.top && y <= area.bottom) {
          ctx.beginPath();
          ctx.moveTo(area.left, y);
          ctx.lineTo(area.right, y);
          ctx.stroke();
        }
      }
      ctx.restore();
    },
  };

  // Values spread over several orders of magnitude, so both axes are logarithmic; a value of 0 (no revenue yet)
  // is drawn on the floor of its axis, half the smallest value above 0, and the tooltip gives the real figure.
  function logFloor(values) {
    var positive = values.filter(function (v) { return v > 0; });
    return positive.length ? Math.min.apply(null, positive) / 2 : 1;
  }

  function matrixChart(canvas, data) {
    var xFloor = logFloor(data.points.map(function (p) { return p.x; }).concat([data.pv_threshold || 0]));
    var yFloor = logFloor(data.points.map(function (p) { return p.y; }).concat([data.cv_threshold || 0]));
    var datasets = data.quadrants.map(function (quadrant) {
      return {
        label: quadrant.label,
        data: data.points
          .filter(function (p) { return p.quadrant === quadrant.code; })
          .map(function (p) {
            return { x: Math.max(p.x, xFloor), y: Math.max(p.y, yFloor), pv: p.x, cv: p.y, name: p.name };
          }),
        backgroundColor: quadrant.colour + "b3",
        borderColor: quadrant.colour,
        pointRadius: 4,
        pointHoverRadius: 6,
        clip: false, // the largest accounts sit on the edge of the axes; draw them whole

      };
    });
    return new window.Chart(canvas, {
      type: "scatter",
      data: { datasets: datasets },
      options: {
        maintainAspectRatio: false,
        animation: false,
        layout: { padding: { top: 8, right: 8 } },
        scales: {
          x: { type: "logarithmic", min: xFloor, title: { display: true, text: data.axes.x }, ticks: { callback: logTick, maxRotation: 0, autoSkip: false } },
          y: { type: "logarithmic", min: yFloor, title: { display: true, text: data.axes.y }, ticks: { callback: logTick, autoSkip: false } },
        },
        plugins: {
          legend: { position: "bottom", labels: { usePointStyle: true, boxWidth: 8 } },
          thresholdLines: { x: data.pv_threshold, y: data.cv_threshold },
          tooltip: {
            callbacks: {
              label: function (item) {
                var p = item.raw;
                return p.name + " · CV ¥" + whole.format(p.cv) + " · PV ¥" + whole.format(p.pv);
              },
            },
          },
        },
      },
      plugins: [thresholdLines],
    });
  }

  var BAR_COLOURS = ["#1d4ed8", "#93c5fd", "#f59e0b"];

  function barChart(canvas, data) {
    var horizontal = data.labels.length > 6 || window.innerWidth < 640;
    if (horizontal) {
      // Room for three bars per group, however many groups there are.
      canvas.parentNode.style.height = Math.max(240, data.labels.length * 44 + 80) + "px";
    }
    return new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: data.series.map(function (series, index) {
          return { label: series.label, data: series.data, backgroundColor: BAR_COLOURS[index % BAR_COLOURS.length] };
        }),
      },
      options: {
        indexAxis: horizontal ? "y" : "x",
        maintainAspectRatio: false,
        animation: false,
        scales: horizontal
          ? { x: { ticks: { callback: yuan }, beginAtZero: true } }
          : { y: { ticks: { callback: yuan }, beginAtZero: true } },
        plugins: {
          legend: { position: "bottom" },
          tooltip: {
            callbacks: {
              label: function (item) {
                return item.dataset.label + ": ¥" + whole.format(horizontal ? item.parsed.x : item.parsed.y);
              },
            },
          },
        },
      },
    });
  }

  var CHARTS = { matrix: matrixChart, bars: barChart };

  function drawAll() {
    if (!window.Chart) return;
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var draw = CHARTS[canvas.getAttribute("data-chart")];
      var data = readData(canvas);
      if (draw && data) draw(canvas, data);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
