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

  // Log axes: label only 1, 2 and 5 times a power of ten, so ticks do not crowd; where a power of ten has too little
  // room for three labels (a narrow chart, or values over many powers) only the powers of ten themselves. 2 and 5
  // sit 0.3 of a power apart: a label across needs ~55 px of that, one stacked up ~20 px.
  function logTick(value) {
    var lead = value / Math.pow(10, Math.floor(Math.log10(value) + 1e-9));
    var decades = Math.max(Math.log10(this.max / this.min), 1);
    var across = this.isHorizontal();
    var room = (across ? this.width : this.height) / decades;
    var shown = room * 0.3 < (across ? 55 : 20) ? [1] : [1, 2, 5];
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

  // The matrix payload is bounded: the first accounts by visit priority come as points, every other account is
  // counted in a cell of a logarithmic grid per quadrant (data.bins: the cell's middle, edges and count). A cell is a
  // translucent bubble under the points, its area growing with its count; the tooltip gives the count and the
  // cell's ranges.
  function binRadius(n, largest, widest) {
    return 2 + widest * Math.sqrt(n / largest);
  }

  function range(edges) {
    return edges[1] ? yuan(edges[0]) + "–" + yuan(edges[1]) : "¥0";
  }

  function matrixChart(canvas, data) {
    var bins = data.bins || [];
    var xs = data.points.map(function (p) { return p.x; }).concat(bins.map(function (b) { return b.x_range[0]; }));
    var ys = data.points.map(function (p) { return p.y; }).concat(bins.map(function (b) { return b.y_range[0]; }));
    var xFloor = logFloor(xs.concat([data.pv_threshold || 0]));
    var yFloor = logFloor(ys.concat([data.cv_threshold || 0]));
    var largest = bins.reduce(function (most, b) { return Math.max(most, b.n); }, 1);
    var widest = canvas.parentNode.clientWidth < 500 ? 6 : 11; // a phone has half the room between grid cells
    var pointSets = data.quadrants.map(function (quadrant) {
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
        order: 1,
      };
    });
    var binSets = data.quadrants.map(function (quadrant) {
      return {
        type: "bubble",
        label: quadrant.label,
        binned: true,
        data: bins
          .filter(function (b) { return b.quadrant === quadrant.code; })
          .map(function (b) {
            return {
              x: Math.max(b.x, xFloor), y: Math.max(b.y, yFloor), r: binRadius(b.n, largest, widest),
              n: b.n, x_range: b.x_range, y_range: b.y_range,
            };
          }),
        backgroundColor: quadrant.colour + "33",
        borderColor: quadrant.colour + "66",
        borderWidth: 1,
        clip: false,
        order: 2, // drawn first, under the points
      };
    }).filter(function (set) { return set.data.length; });
    return new window.Chart(canvas, {
      type: "scatter",
      data: { datasets: pointSets.concat(binSets) },
      options: {
        maintainAspectRatio: false,
        animation: false,
        layout: { padding: { top: 8, right: 8 } },
        scales: {
          x: { type: "logarithmic", min: xFloor, title: { display: true, text: data.axes.x }, ticks: { callback: logTick, maxRotation: 0, autoSkip: false } },
          y: { type: "logarithmic", min: yFloor, title: { display: true, text: data.axes.y }, ticks: { callback: logTick, autoSkip: false } },
        },
        plugins: {
          legend: {
            position: "bottom",
            labels: {
              usePointStyle: true,
              boxWidth: 8,
              // One entry per quadrant: the bins share their quadrant's colour and are explained under the chart.
              filter: function (item, chartData) { return !chartData.datasets[item.datasetIndex].binned; },
            },
            // A quadrant's entry shows or hides its points and its bins together.
            onClick: function (event, item, legend) {
              var chart = legend.chart;
              var label = chart.data.datasets[item.datasetIndex].label;
              var show = !chart.isDatasetVisible(item.datasetIndex);
              chart.data.datasets.forEach(function (set, index) {
                if (set.label === label) chart.setDatasetVisibility(index, show);
              });
              chart.update();
            },
          },
          thresholdLines: { x: data.pv_threshold, y: data.cv_threshold },
          tooltip: {
            callbacks: {
              label: function (item) {
                var p = item.raw;
                if (item.dataset.binned) {
                  var count = data.labels.accounts.replace("%(n)s", whole.format(p.n));
                  return count + " · CV " + range(p.y_range) + " · PV " + range(p.x_range);
                }
                return p.name + " · CV ¥" + whole.format(p.cv) + " · PV ¥" + whole.format(p.pv);
              },
            },
          },
        },
      },
      plugins: [thresholdLines],
    });
  }

  var BAR_COLOURS = ["#1d4ed8", "#93c5fd", "#f59e0b", "#15803d"];

  // A series may name its colour by a CSS custom property (the stages' --stage-N), else it takes the next of ours.
  function seriesColour(series, index) {
    var named = series.colour_var && getComputedStyle(document.documentElement).getPropertyValue(series.colour_var);
    return (named && named.trim()) || BAR_COLOURS[index % BAR_COLOURS.length];
  }

  // data.stacked stacks the series: all in one bar per group, or by series.stack (bars side by side per stack).
  function barChart(canvas, data) {
    var horizontal = data.labels.length > 6 || window.innerWidth < 640;
    if (horizontal) {
      // Room for three bars per group, however many groups there are.
      canvas.parentNode.style.height = Math.max(240, data.labels.length * 44 + 80) + "px";
    }
    var stacked = Boolean(data.stacked);
    var money = { ticks: { callback: yuan }, beginAtZero: true, stacked: stacked };
    var groups = { stacked: stacked };
    return new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: data.series.map(function (series, index) {
          var dataset = { label: series.label, data: series.data, backgroundColor: seriesColour(series, index) };
          if (series.stack) dataset.stack = series.stack;
          return dataset;
        }),
      },
      options: {
        indexAxis: horizontal ? "y" : "x",
        maintainAspectRatio: false,
        animation: false,
        scales: horizontal ? { x: money, y: groups } : { x: groups, y: money },
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

  // Lines over time (the forecast week by week): one series per line, a null where a week has no value.
  function lineChart(canvas, data) {
    return new window.Chart(canvas, {
      type: "line",
      data: {
        labels: data.labels,
        datasets: data.series.map(function (series, index) {
          var colour = BAR_COLOURS[index % BAR_COLOURS.length];
          return { label: series.label, data: series.data, borderColor: colour, backgroundColor: colour, spanGaps: true, tension: 0 };
        }),
      },
      options: {
        maintainAspectRatio: false,
        animation: false,
        scales: { y: { ticks: { callback: yuan }, beginAtZero: true } },
        plugins: {
          legend: { position: "bottom" },
          tooltip: {
            callbacks: {
              label: function (item) {
                return item.dataset.label + ": ¥" + whole.format(item.parsed.y);
              },
            },
          },
        },
      },
    });
  }

  var CHARTS = { matrix: matrixChart, bars: barChart, lines: lineChart };

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
