// The static explorer of the rendered book: range inputs for eta and L (and a menu of variants when
// there are several) redraw an inline SVG from the curves embedded as JSON beside the script
// (spnlib.views.explorer.static_explorer_html). The colours (one per depth), the axis ranges and the
// round tick values come from Python with the data. No request to any server.
// The page calls spnlibStaticExplorer(root) with the explorer's <div>.
function spnlibStaticExplorer(root) {
  var D = JSON.parse(root.querySelector("script[type='application/json']").textContent);
  var etaIn = root.querySelector("input[name='eta']"), depthIn = root.querySelector("input[name='depth']");
  var variantIn = root.querySelector("select[name='variant']");
  var fig = root.querySelector(".static-explorer-figure"), label = root.querySelector(".static-explorer-label");
  var etaOut = root.querySelector(".static-explorer-eta"), depthOut = root.querySelector(".static-explorer-depth");
  var W = 560, H = 300, L = 46, R = 10, T = 10, B = 34, NS = "http://www.w3.org/2000/svg";
  function el(name, attrs, text) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function short(v) { return String(Number(v.toPrecision(3))); }
  function variant() { return D.variants[variantIn ? +variantIn.value : 0]; }
  function swatch(colour, dash, width) {
    var s = el("svg", {width: 30, height: 10, "aria-hidden": "true"});
    s.appendChild(el("line", {x1: 1, x2: 29, y1: 5, y2: 5, stroke: colour, "stroke-width": width,
                              "stroke-dasharray": dash}));
    return s;
  }
  function switchVariant(eta) {  // keep the nearest learning rate and the depth when the variant changes
    var V = variant(), best = 0;
    V.etas.forEach(function (e, k) {
      if (Math.abs(Math.log(e / eta)) < Math.abs(Math.log(V.etas[best] / eta))) best = k;
    });
    etaIn.max = V.etas.length - 1;
    etaIn.value = best;
    depthIn.max = V.depths.length;
    if (+depthIn.value > V.depths.length) depthIn.value = V.depths.length;
  }
  function draw() {
    var V = variant(), i = +etaIn.value, j = +depthIn.value - 1, it = V.iterations, n = it.length;
    var depth = V.depths[j], shallow = V.depths[0], colour = D.colours[depth - 1];
    var lo = V.ylim[i][0], hi = V.ylim[i][1];
    var paper = (Math.abs(V.etas[i] - D.paperEta) < 1e-12 && depth <= D.paper.length && it[n - 1] === 500)
      ? D.paper[depth - 1] : null;
    var x = function (t) { return L + (W - L - R) * (t - 1) / (it[n - 1] - 1); };
    var y = function (v) { return T + (H - T - B) * (hi - v) / (hi - lo); };
    var path = function (s, xs) {
      return s.map(function (v, k) { return (k ? "L" : "M") + x(xs[k]).toFixed(1) + "," + y(v).toFixed(1); }).join("");
    };
    var svg = el("svg", {viewBox: "0 0 " + W + " " + H, width: "100%", role: "img",
                         "aria-label": "train log-likelihood curves, L = " + depth + ", eta = " + short(V.etas[i])});
    V.yticks[i].forEach(function (v) {
      var yy = y(v).toFixed(1);
      svg.appendChild(el("line", {x1: L, x2: W - R, y1: yy, y2: yy, stroke: "#e4e4e4"}));
      svg.appendChild(el("text", {x: L - 5, y: +yy + 4, "text-anchor": "end", "font-size": 12}, String(v)));
    });
    V.xticks.forEach(function (t) {
      svg.appendChild(el("text", {x: x(t), y: H - B + 15, "text-anchor": "middle", "font-size": 12}, String(t)));
    });
    svg.appendChild(el("rect", {x: L, y: T, width: W - L - R, height: H - T - B, fill: "none", stroke: "#999"}));
    svg.appendChild(el("text", {x: (L + W) / 2, y: H - 3, "text-anchor": "middle", "font-size": 12}, "iteration"));
    svg.appendChild(el("text", {x: 12, y: (T + H - B) / 2, "text-anchor": "middle", "font-size": 12,
                                transform: "rotate(-90 12 " + (T + H - B) / 2 + ")"}, "mean train LLH"));
    var band = V.high[i][j].map(function (v, k) { return [x(it[k]), y(v)]; })
      .concat(V.low[i][j].map(function (v, k) { return [x(it[k]), y(v)]; }).reverse());
    svg.appendChild(el("polygon", {points: band.map(function (p) { return p[0].toFixed(1) + "," + p[1].toFixed(1); })
      .join(" "), fill: colour, "fill-opacity": 0.25, stroke: "none"}));
    if (j > 0) svg.appendChild(el("path", {d: path(V.mean[i][0], it), fill: "none", stroke: D.colours[shallow - 1],
                                             "stroke-width": 1.6, "stroke-dasharray": "6 4"}));
    svg.appendChild(el("path", {d: path(V.mean[i][j], it), fill: "none", stroke: colour, "stroke-width": 2.2}));
    svg.appendChild(el("path", {d: path(V.faithful[i][j], it), fill: "none", stroke: "#000", "stroke-width": 1.2}));
    if (paper) {
      var pit = paper.map(function (v, k) { return 1 + D.paperEvery * k; });
      svg.appendChild(el("path", {d: path(paper, pit), fill: "none", stroke: "#555", "stroke-width": 1.4,
                                  "stroke-dasharray": "2 3"}));
    }
    var entries = [[colour, "", 2.2, "L = " + depth + ": " + V.name + " (mean of " + V.runs + " runs, 95% band)"],
                   ["#000", "", 1.2, "L = " + depth + ": faithful protocol"]];
    if (j > 0) entries.push([D.colours[shallow - 1], "6 4", 1.6, "L = " + shallow + ": " + V.name + " (mean)"]);
    if (paper) entries.push(["#555", "2 3", 1.4, "paper, L = " + depth]);
    var legend = document.createElement("div");
    legend.className = "static-explorer-legend";
    legend.style.cssText = "display:flex;flex-wrap:wrap;gap:2px 18px;margin:2px 0 0 " + L + "px";
    entries.forEach(function (e) {
      var item = document.createElement("span");
      item.style.whiteSpace = "nowrap";
      item.appendChild(swatch(e[0], e[1], e[2]));
      item.appendChild(document.createTextNode(" " + e[3]));
      legend.appendChild(item);
    });
    fig.replaceChildren(svg, legend);
    if (etaOut) etaOut.textContent = "eta = " + short(V.etas[i]);
    if (depthOut) depthOut.textContent = "L = " + depth;
    var fm = V.mean[i][j][n - 1], f1 = V.mean[i][0][n - 1];
    label.textContent = V.label + ". Final mean train LLH at L = " + depth + ": " + fm.toFixed(2) +
      " (L = " + shallow + ": " + f1.toFixed(2) + "; faithful protocol: " + V.faithful[i][j][n - 1].toFixed(2) + ")";
  }
  if (variantIn) variantIn.addEventListener("input", function () { switchVariant(+root.dataset.eta); draw(); });
  etaIn.addEventListener("input", function () { root.dataset.eta = variant().etas[+etaIn.value]; draw(); });
  depthIn.addEventListener("input", draw);
  root.dataset.eta = variant().etas[+etaIn.value];
  draw();
}
