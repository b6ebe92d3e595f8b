// Monthly 好评率 and 差评率 from #rating-chart-data, as a line chart.
document.addEventListener("DOMContentLoaded", function () {
  var holder = document.getElementById("rating-chart");
  var source = document.getElementById("rating-chart-data");
  if (!holder || !source || typeof echarts === "undefined") return;
  var data = JSON.parse(source.textContent);
  if (!data.months.length) { holder.hidden = true; return; }
  var chart = echarts.init(holder, null, { renderer: "svg" });
  chart.setOption({
    tooltip: { trigger: "axis" },
    legend: { data: ["好评率（%）", "差评率（%）"] },
    xAxis: { type: "category", data: data.months },
    yAxis: { type: "value", min: 0, max: 100, name: "%" },
    series: [
      { name: "好评率（%）", type: "line", data: data.good, itemStyle: { color: "#1a7f37" } },
      { name: "差评率（%）", type: "line", data: data.negative, itemStyle: { color: "#b42318" } }
    ]
  });
  window.addEventListener("resize", function () { chart.resize(); });
});
