// Bar chart of each department's on-time rate (按时办结率) with its overdue cases, from #chart-data.
document.addEventListener("DOMContentLoaded", function () {
  var holder = document.getElementById("on-time-chart");
  var source = document.getElementById("chart-data");
  if (!holder || !source || typeof echarts === "undefined") return;
  var data = JSON.parse(source.textContent);
  if (!data.departments.length) { holder.hidden = true; return; }
  var chart = echarts.init(holder, null, { renderer: "svg" });
  chart.setOption({
    tooltip: { trigger: "axis" },
    legend: { data: ["按时办结率（%）", "超期件数"] },
    grid: { left: 48, right: 48, bottom: 80 },
    xAxis: { type: "category", data: data.departments, axisLabel: { rotate: 30 } },
    yAxis: [
      { type: "value", name: "%", min: 0, max: 100 },
      { type: "value", name: "件", minInterval: 1 }
    ],
    series: [
      { name: "按时办结率（%）", type: "bar", data: data.onTimeRate, itemStyle: { color: "#1a5fb4" } },
      { name: "超期件数", type: "line", yAxisIndex: 1, data: data.overdue, itemStyle: { color: "#b42318" } }
    ]
  });
  window.addEventListener("resize", function () { chart.resize(); });
});
