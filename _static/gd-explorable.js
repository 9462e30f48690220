/* Gradient descent on a two-feature least-squares loss, redrawn as the reader moves sliders.
 *
 * Mount it on any page with a raw HTML block:
 *     <div class="gd-explorable"></div>
 * Without JavaScript the block shows whatever it contains (a pointer to the static figure).
 *
 * The quadratic, the path and the iteration count follow utils.curvature exactly:
 *   H = D [[1+m^2, m^2], [m^2, 1+m^2]] D with D = diag(1, r)      (two_feature_hessian(r, m))
 *   w_{k+1} = w_k - lr H (w_k - w*) + beta (w_k - w_{k-1}),  w_0 = w_{-1} = 0, w* = (1, 1)
 *   iterations = first k with ||w_k - w*||^2 / ||w_0 - w*||^2 < tol^2   (iterations_to_tol)
 *   diverges   = contraction rate above 1, i.e. lr lambda_max > 2 (1 + beta)   (contraction_rate)
 * The browser test (tests/test_site.py) compares what this file shows with a table the build
 * computes from those Python helpers (_static/gd-explorable-table.json).
 */
(function () {
  "use strict";

  // Slider grids. tests/test_site.py checks they equal GRID in utils/sphinx_site.py.
  var GRID = {
    scale_ratio: [1, 2, 3, 5, 10, 20, 30, 50, 100],
    mean: [0, 0.25, 0.5, 1, 1.5, 2, 3],
    lr_fraction: [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.01, 1.05, 1.1, 1.2, 1.4, 1.6, 2.0],
    momentum: [0, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95],
  };
  var TOL = 1e-6;
  var MAX_ITER = 50000;
  var START = [0, 0];
  var OPTIMUM = [1, 1];
  var DEFAULTS = { scale_ratio: 10, mean: 1, lr_fraction: 0.5, momentum: 0 };

  function hessian(r, m) {
    var m2 = m * m;
    // D A D with D = diag(1, r): entry (i, j) is d_i A_ij d_j.
    return [
      [1 + m2, m2 * r],
      [r * m2, r * (1 + m2) * r],
    ];
  }

  function eigenvalues(h) {
    // Closed form for a symmetric 2x2 matrix, written to avoid cancellation in the small one.
    var a = h[0][0], b = h[0][1], c = h[1][1];
    var mean = (a + c) / 2;
    var radius = Math.hypot((a - c) / 2, b);
    var large = mean + radius;
    var small = (a * c - b * b) / large;
    return [small, large];
  }

  function lossGap(h, e0, e1) {
    // (w - w*)^T H (w - w*) / 2 for the error e = w - w*.
    return 0.5 * (e0 * (h[0][0] * e0 + h[0][1] * e1) + e1 * (h[1][0] * e0 + h[1][1] * e1));
  }

  /* Iterations until the distance to the optimum falls below TOL times the starting distance,
     in the same arithmetic as utils.curvature.iterations_to_tol; Infinity when the run blows up
     (distance grown a thousand-fold) or needs more than MAX_ITER steps. Also keeps up to `keep`
     iterates for drawing. */
  function run(h, lr, beta, keep) {
    var e = [START[0] - OPTIMUM[0], START[1] - OPTIMUM[1]];
    var previous = [e[0], e[1]];
    var initial = e[0] * e[0] + e[1] * e[1];
    var path = [[START[0], START[1]]];
    var iterations = Infinity;
    var blewUp = false;
    for (var k = 1; k <= MAX_ITER; k++) {
      var g0 = h[0][0] * e[0] + h[0][1] * e[1];
      var g1 = h[1][0] * e[0] + h[1][1] * e[1];
      var n0 = e[0] - lr * g0 + beta * (e[0] - previous[0]);
      var n1 = e[1] - lr * g1 + beta * (e[1] - previous[1]);
      previous = e;
      e = [n0, n1];
      if (path.length < keep) path.push([e[0] + OPTIMUM[0], e[1] + OPTIMUM[1]]);
      var gap = (n0 * n0 + n1 * n1) / initial;
      if (gap < TOL * TOL) {
        iterations = k;
        break;
      }
      if (!(gap < 1e6)) {  // also catches NaN and Infinity
        blewUp = true;
        break;
      }
    }
    return { iterations: iterations, path: path, blewUp: blewUp };
  }

  /* Everything the widget shows for one setting; exposed for the browser test. */
  function compute(settings) {
    var h = hessian(settings.scale_ratio, settings.mean);
    var eig = eigenvalues(h);
    var lr = settings.lr_fraction * 2 / eig[1];
    var result = run(h, lr, settings.momentum, 400);
    // Heavy ball on a quadratic is stable iff 0 < lr * lambda < 2 (1 + beta) for every eigenvalue.
    var unstable = lr * eig[1] > 2 * (1 + settings.momentum);  // the grid keeps clear of equality
    return {
      kappa: eig[1] / eig[0],
      lambda_max: eig[1],
      lr: lr,
      iterations: result.iterations,
      diverged: unstable || result.blewUp,
      path: result.path,
      hessian: h,
    };
  }

  function formatNumber(x) {
    if (x >= 100) return Math.round(x).toLocaleString("en-US");
    if (x >= 10) return x.toFixed(1);
    return x.toFixed(2);
  }

  var LABELS = {
    scale_ratio: "Ratio of the feature scales",
    mean: "Mean offset of both features",
    lr_fraction: "Learning rate, as a fraction of 2/λ_max",
    momentum: "Momentum",
  };
  var HINTS = {
    scale_ratio: "feature 2 is this many times wider than feature 1",
    mean: "0 means centered",
    lr_fraction: "1 is the stability limit without momentum",
    momentum: "0 is plain gradient descent",
  };

  function valueText(name, value) {
    if (name === "scale_ratio") return value + " to 1";
    if (name === "lr_fraction") return value + " times 2/λ_max";
    return String(value);
  }

  var counter = 0;

  function mount(root) {
    if (root.dataset.mounted) return;
    root.dataset.mounted = "1";
    counter += 1;
    var id = "gd-explorable-" + counter;
    root.textContent = "";
    root.setAttribute("role", "group");
    root.setAttribute("aria-labelledby", id + "-title");

    var title = document.createElement("p");
    title.className = "gd-explorable-title";
    title.id = id + "-title";
    title.textContent = "Explore: gradient descent on two features (from w = (0, 0) to the optimum w* = (1, 1))";
    root.appendChild(title);

    var controls = document.createElement("div");
    controls.className = "gd-explorable-controls";
    root.appendChild(controls);

    var inputs = {};
    var shown = {};
    Object.keys(GRID).forEach(function (name) {
      var row = document.createElement("div");
      row.className = "gd-explorable-control";
      var label = document.createElement("label");
      var inputId = id + "-" + name.replace("_", "-");
      label.htmlFor = inputId;
      label.textContent = LABELS[name] + ": ";
      var output = document.createElement("span");
      output.className = "gd-explorable-value";
      output.setAttribute("aria-hidden", "true");  // the slider's aria-valuetext says the same
      label.appendChild(output);
      var hint = document.createElement("span");
      hint.className = "gd-explorable-hint";
      hint.id = inputId + "-hint";
      hint.textContent = " (" + HINTS[name] + ")";
      label.appendChild(hint);
      var input = document.createElement("input");
      input.type = "range";
      input.id = inputId;
      input.name = name;
      input.min = "0";
      input.max = String(GRID[name].length - 1);
      input.step = "1";
      input.value = String(Math.max(0, GRID[name].indexOf(DEFAULTS[name])));
      row.appendChild(label);
      row.appendChild(input);
      controls.appendChild(row);
      inputs[name] = input;
      shown[name] = output;
    });

    var figure = document.createElement("div");
    figure.className = "gd-explorable-figure";
    var canvas = document.createElement("canvas");
    canvas.setAttribute("role", "img");
    figure.appendChild(canvas);
    root.appendChild(figure);

    var readout = document.createElement("p");
    readout.className = "gd-explorable-readout";
    readout.setAttribute("role", "status");  // a polite live region: screen readers hear new numbers
    readout.setAttribute("aria-live", "polite");
    readout.setAttribute("aria-atomic", "true");
    root.appendChild(readout);

    var note = document.createElement("p");
    note.className = "gd-explorable-note";
    note.textContent =
      "Loss: half of (w − w*)ᵀH(w − w*), with H the second-moment matrix of two features x_i = s_i (mean + z_i), " +
      "s = (1, ratio), z_i independent with unit variance. Iterations count steps until the distance to w* falls below " +
      "10⁻⁶ of its start, within " + MAX_ITER.toLocaleString("en-US") + " steps. Use the arrow keys, Home and End on a slider.";
    root.appendChild(note);

    function settings() {
      var s = {};
      Object.keys(inputs).forEach(function (name) {
        s[name] = GRID[name][Number(inputs[name].value)];
      });
      return s;
    }

    function update() {
      var s = settings();
      Object.keys(inputs).forEach(function (name) {
        shown[name].textContent = valueText(name, s[name]);
        inputs[name].setAttribute("aria-valuetext", valueText(name, s[name]));
      });
      var out = compute(s);
      var iterationsText;
      if (out.diverged) iterationsText = "diverges";
      else if (!isFinite(out.iterations)) iterationsText = "more than " + MAX_ITER.toLocaleString("en-US");
      else iterationsText = out.iterations.toLocaleString("en-US");
      readout.dataset.kappa = String(out.kappa);
      readout.dataset.iterations = isFinite(out.iterations) ? String(out.iterations) : "";
      readout.dataset.diverged = out.diverged ? "true" : "false";
      readout.textContent = "";
      var kappa = document.createElement("span");
      kappa.className = "gd-explorable-kappa";
      kappa.textContent = "κ = " + formatNumber(out.kappa);
      var iterations = document.createElement("span");
      iterations.className = "gd-explorable-iterations" + (out.diverged ? " gd-explorable-diverged" : "");
      iterations.textContent = out.diverged
        ? "Diverges: the step is past the stability limit"
        : "Iterations to 10⁻⁶ of the starting distance: " + iterationsText;
      readout.appendChild(kappa);
      readout.appendChild(document.createTextNode(". "));
      readout.appendChild(iterations);
      readout.appendChild(document.createTextNode("."));
      canvas.setAttribute(
        "aria-label",
        "Contours of the loss, elongated by κ = " + formatNumber(out.kappa) + ", and the path of gradient descent from (0, 0) " +
          (out.diverged ? "moving away from the optimum at (1, 1)." : "toward the optimum at (1, 1): " + iterationsText + " iterations.")
      );
      draw(canvas, out);
    }

    Object.keys(inputs).forEach(function (name) {
      inputs[name].addEventListener("input", update);
    });
    window.addEventListener("resize", update);
    update();
  }

  /* Contours (ellipses of equal loss) and the path, on a fixed window around w* with equal axes. */
  function draw(canvas, out) {
    var cssWidth = Math.max(200, Math.min(480, canvas.parentElement.clientWidth || 480));
    var ratio = window.devicePixelRatio || 1;
    canvas.style.width = cssWidth + "px";
    canvas.style.height = cssWidth + "px";
    canvas.width = Math.round(cssWidth * ratio);
    canvas.height = Math.round(cssWidth * ratio);
    var ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    var low = -0.75, high = 2.75, size = cssWidth;
    function px(w) {
      return [((w[0] - low) / (high - low)) * size, size - ((w[1] - low) / (high - low)) * size];
    }
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, size, size);
    // Axes through the origin.
    ctx.strokeStyle = "#bbbbbb";
    ctx.lineWidth = 1;
    var o = px([0, 0]);
    ctx.beginPath();
    ctx.moveTo(0, o[1]);
    ctx.lineTo(size, o[1]);
    ctx.moveTo(o[0], 0);
    ctx.lineTo(o[0], size);
    ctx.stroke();
    // Ellipses: w* + sqrt(2c) (cos t v1 / sqrt(l1) + sin t v2 / sqrt(l2)), levels relative to L(0).
    var h = out.hessian;
    var a = h[0][0], b = h[0][1], c = h[1][1];
    var angle = 0.5 * Math.atan2(2 * b, a - c);  // direction of the large eigenvalue
    var eig = eigenvalues(h);
    var v = [Math.cos(angle), Math.sin(angle)], u = [-Math.sin(angle), Math.cos(angle)];
    var start = lossGap(h, -1, -1);
    ctx.strokeStyle = "#0072B2";
    for (var level = 4; level >= 1 / 1024; level /= 4) {
      var radius = Math.sqrt(2 * level * start);
      ctx.beginPath();
      for (var i = 0; i <= 96; i++) {
        var t = (2 * Math.PI * i) / 96;
        var p = Math.cos(t) * radius / Math.sqrt(eig[1]), q = Math.sin(t) * radius / Math.sqrt(eig[0]);
        var point = px([OPTIMUM[0] + p * v[0] + q * u[0], OPTIMUM[1] + p * v[1] + q * u[1]]);
        if (i === 0) ctx.moveTo(point[0], point[1]);
        else ctx.lineTo(point[0], point[1]);
      }
      ctx.stroke();
    }
    // The path, clipped to a generous box so that a diverging path stays drawable.
    ctx.strokeStyle = out.diverged ? "#D55E00" : "#000000";
    ctx.fillStyle = ctx.strokeStyle;
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    for (var k = 0; k < out.path.length; k++) {
      var w = out.path[k];
      if (!(Math.abs(w[0]) < 1e3 && Math.abs(w[1]) < 1e3)) break;
      var pk = px(w);
      if (k === 0) ctx.moveTo(pk[0], pk[1]);
      else ctx.lineTo(pk[0], pk[1]);
    }
    ctx.stroke();
    // Start and optimum.
    var s0 = px(START), s1 = px(OPTIMUM);
    ctx.fillStyle = "#000000";
    ctx.beginPath();
    ctx.arc(s0[0], s0[1], 4, 0, 2 * Math.PI);
    ctx.fill();
    ctx.font = "14px sans-serif";
    ctx.fillText("★ w*", s1[0] - 7, s1[1] + 5);
    ctx.fillText("start", s0[0] + 6, s0[1] + 16);
    if (out.diverged) {
      ctx.fillStyle = "#A33A00";
      ctx.font = "bold 16px sans-serif";
      ctx.fillText("diverges", 10, 22);
    }
  }

  function mountAll() {
    var roots = document.querySelectorAll(".gd-explorable");
    for (var i = 0; i < roots.length; i++) mount(roots[i]);
  }

  window.gdExplorable = { GRID: GRID, TOL: TOL, MAX_ITER: MAX_ITER, compute: compute, hessian: hessian };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mountAll);
  else mountAll();
})();
