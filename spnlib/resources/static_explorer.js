// The static explorer of the rendered book: two range inputs redraw an inline SVG from the
// curves embedded as JSON beside the script (spnlib.views.explorer.static_explorer_html).
// No request to any server. The page calls spnlibStaticExplorer(root) with the explorer's <div>.
function spnlibStaticExplorer(root) {
  var D = JSON.parse(root.querySelector("script[type='application/json']").textContent);
  var etaIn = root.querySelector("input[name='eta']"), depthIn = root.querySelector("input[name='depth']");
  var fig = root.querySelector(".static-explorer-figure"), label = root.querySelector(".static-explorer-label");
  var W = 560, H = 300, L = 58, R = 12, T = 14, B = 40, NS = "http://www.w3.org/2000/svg";
  var colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"];
  function el(name, attrs, text) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function draw() {
    var i = +etaIn.value, j = +depthIn.value - 1, it = D.iterations, n = it.length;
    var series = [D.mean[i][0], D.mean[i][j], D.low[i][j], D.high[i][j], D.faithful[i][j]];
    var paper = (Math.abs(D.etas[i] - 0.01) < 1e-12 && j < 3) ? D.paper[j] : null;
    var lo = Infinity, hi = -Infinity;
    for (var d = 0; d < D.depths.length; d++) {
      [D.low[i][d], D.high[i][d], D.faithful[i][d]].forEach(function (s) {
        s.forEach(function (v) { lo = Math.min(lo, v); hi = Math.max(hi, v); });
      });
    }
    if (paper) paper.forEach(function (v) { lo = Math.min(lo, v); hi = Math.max(hi, v); });
    var pad = 0.04 * (hi - lo || 1); lo -= pad; hi += pad;
    var x = function (t) { return L + (W - L - R) * (t - 1) / (it[n - 1] - 1); };
    var y = function (v) { return T + (H - T - B) * (hi - v) / (hi - lo); };
    var path = function (s, xs) {
      return s.map(function (v, k) { return (k ? "L" : "M") + x(xs[k]).toFixed(1) + "," + y(v).toFixed(1); }).join("");
    };
    var svg = el("svg", {viewBox: "0 0 " + W + " " + H, width: "100%", role: "img",
                         "aria-label": "train log-likelihood curves"});
    svg.appendChild(el("rect", {x: L, y: T, width: W - L - R, height: H - T - B, fill: "none", stroke: "#999"}));
    for (var q = 0; q <= 4; q++) {
      var v = lo + (hi - lo) * q / 4, yy = y(v).toFixed(1);
      svg.appendChild(el("line", {x1: L - 4, x2: L, y1: yy, y2: yy, stroke: "#999"}));
      svg.appendChild(el("text", {x: L - 6, y: +yy + 4, "text-anchor": "end", "font-size": 11}, v.toFixed(2)));
    }
    [1, 100, 200, 300, 400, 500].filter(function (t) { return t <= it[n - 1]; }).forEach(function (t) {
      svg.appendChild(el("text", {x: x(t), y: H - B + 16, "text-anchor": "middle", "font-size": 11}, String(t)));
    });
    svg.appendChild(el("text", {x: (L + W) / 2, y: H - 6, "text-anchor": "middle", "font-size": 12}, "iteration"));
    svg.appendChild(el("text", {x: 14, y: (T + H - B) / 2, "text-anchor": "middle", "font-size": 12,
                                transform: "rotate(-90 14 " + (T + H - B) / 2 + ")"}, "mean train LLH"));
    var band = D.high[i][j].map(function (v, k) { return [x(it[k]), y(v)]; })
      .concat(D.low[i][j].map(function (v, k) { return [x(it[k]), y(v)]; }).reverse());
    var points = band.map(function (p) { return p[0].toFixed(1) + "," + p[1].toFixed(1); }).join(" ");
    svg.appendChild(el("polygon", {points: points,
                                   fill: colours[j], "fill-opacity": 0.25, stroke: "none"}));
    if (j > 0) svg.appendChild(el("path", {d: path(D.mean[i][0], it), fill: "none", stroke: colours[0],
                                             "stroke-width": 1.5, "stroke-dasharray": "6 4"}));
    svg.appendChild(el("path", {d: path(D.mean[i][j], it), fill: "none", stroke: colours[j], "stroke-width": 2}));
    svg.appendChild(el("path", {d: path(D.faithful[i][j], it), fill: "none", stroke: "#000", "stroke-width": 1.2}));
    if (paper) {
      var pit = paper.map(function (v, k) { return 1 + 5 * k; });
      svg.appendChild(el("path", {d: path(paper, pit), fill: "none", stroke: "#555", "stroke-width": 1.2,
                                  "stroke-dasharray": "2 3"}));
    }
    var legend = [[colours[j], "L = " + (j + 1) + ": " + D.variant + " (mean of " + D.runs + ", 95% band)"],
                  ["#000", "L = " + (j + 1) + ": faithful protocol"]];
    if (j > 0) legend.push([colours[0], "L = 1: " + D.variant + " (dashed)"]);
    if (paper) legend.push(["#555", "paper, L = " + (j + 1) + " (dotted)"]);
    legend.forEach(function (e, k) {
      var ly = H - B - 12 - 15 * (legend.length - 1 - k);
      svg.appendChild(el("line", {x1: W - R - 300, x2: W - R - 278, y1: ly - 4, y2: ly - 4, stroke: e[0],
                                  "stroke-width": 2}));
      svg.appendChild(el("text", {x: W - R - 272, y: ly, "font-size": 11}, e[1]));
    });
    fig.replaceChildren(svg);
    var fm = D.mean[i][j][n - 1], f1 = D.mean[i][0][n - 1];
    label.textContent = "eta = " + D.etas[i].toPrecision(3) + ", L = " + (j + 1) + ": final mean train LLH " +
      fm.toFixed(3) + " (L = 1: " + f1.toFixed(3) + "; faithful: " + D.faithful[i][j][n - 1].toFixed(3) + ")";
  }
  etaIn.addEventListener("input", draw);
  depthIn.addEventListener("input", draw);
  draw();
}
