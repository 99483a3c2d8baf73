// Progressive enhancement for the pages; everything also works without JavaScript.
(function () {
  // Picking a service reloads the form for it (the "Choose" button does the same without JS).
  var pick = document.getElementById("service-pick");
  if (pick) pick.addEventListener("change", function () { pick.form.submit(); });

  // Live order total: rate per 1000 × quantity (× runs) / 1000 rounded up to the micro-unit, or
  // the package price. Display only: the server computes the charge with exact integer money.
  var form = document.getElementById("order-form");
  if (!form) return;
  var out = document.getElementById("order-total");
  var rate = Number(form.dataset.rateMicros), pkg = form.dataset.package === "1";
  function lines(name) {
    var el = form.elements[name];
    return el ? el.value.split(/\r?\n/).filter(function (l) { return l.trim() !== ""; }).length : 0;
  }
  // Same text as the server's Money display: 2 to 6 decimals, trailing zeros trimmed.
  function money(micros) {
    var s = (micros / 1e6).toFixed(6).replace(/0+$/, "");
    var decimals = s.length - s.indexOf(".") - 1;
    return decimals < 2 ? s + "00".slice(decimals) : s;
  }
  function update() {
    var q = form.elements.quantity ? Number(form.elements.quantity.value) || 0 : lines("comments") || lines("usernames");
    var runs = form.elements.runs && form.elements.runs.value ? Number(form.elements.runs.value) || 1 : 1;
    out.textContent = money(pkg ? rate : Math.ceil(rate * q * runs / 1000));
  }
  form.addEventListener("input", update);
  update();
})();

// Live updates: one WebSocket per page, reconnected with backoff (1 s doubling to 30 s, with
// jitter). Messages update what the page shows in place; nothing polls.
(function () {
  if (!document.body || document.body.dataset.live !== "1" || !window.WebSocket) return;
  var attempt = 0;
  function label(status) {
    var s = String(status).replace(/_/g, " ");
    return s.charAt(0).toUpperCase() + s.slice(1);
  }
  function each(selector, fn) {
    Array.prototype.forEach.call(document.querySelectorAll(selector), fn);
  }
  function toast(title, body) {
    var box = document.getElementById("toasts");
    if (!box) return;
    var t = document.createElement("div");
    t.className = "toast";
    var b = document.createElement("strong");
    b.textContent = title;
    t.appendChild(b);
    if (body) {
      var p = document.createElement("div");
      p.textContent = body;
      t.appendChild(p);
    }
    box.appendChild(t);
    setTimeout(function () { t.remove(); }, 8000);
  }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function when(ms) {
    var d = new Date(ms);
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " + pad(d.getHours()) + ":" + pad(d.getMinutes());
  }
  // The same text as the server's timeline rows.
  function timelineItem(m) {
    var li = document.createElement("li");
    var w = document.createElement("span");
    w.className = "when";
    w.textContent = when(m.at);
    var t = document.createElement("span");
    t.className = "what";
    t.textContent = m.event === "cancel_requested" ? "Cancel requested"
      : m.event === "refill" ? "Refill " + label(m.status).toLowerCase() : label(m.status);
    li.appendChild(w);
    li.appendChild(t);
    return li;
  }
  function apply(m) {
    if (m.type === "hello" || m.type === "balance") {
      each("[data-balance]", function (el) { el.textContent = m.balance; });
    }
    if (m.type === "hello") {
      each("[data-unread]", function (el) { el.textContent = m.unread; el.hidden = !m.unread; });
    }
    if (m.type === "order") {
      each('[data-order="' + m.reference + '"]', function (row) {
        if (m.event === "status" || m.event === "placed") {
          row.dataset.status = m.status;
          var st = row.querySelector("[data-field=status]");
          if (st) { st.textContent = label(m.status); st.className = "status s-" + m.status; }
          var rem = row.querySelector("[data-field=remains]");
          if (rem && m.remains !== null && m.remains !== undefined) rem.textContent = m.remains;
        }
        if (m.event === "refill") {
          var rf = row.querySelector("[data-field=refill]");
          if (rf) rf.textContent = "Refill " + label(m.status).toLowerCase();
        }
        each("[data-show-on]", function (el) {
          if (el.dataset.showOn.split(" ").indexOf(m.status) >= 0 && m.event === "status") el.hidden = false;
        });
        each("[data-hide-on]", function (el) {
          if (el.dataset.hideOn.split(" ").indexOf(m.status) >= 0 && m.event === "status") el.hidden = true;
        });
        row.classList.add("flash-update");
        setTimeout(function () { row.classList.remove("flash-update"); }, 1200);
      });
    }
    if (m.type === "order" && m.event !== "placed") {
      each('[data-timeline="' + m.reference + '"]', function (ol) { ol.appendChild(timelineItem(m)); });
    }
    if (m.type === "notification") {
      each("[data-unread]", function (el) {
        el.textContent = (Number(el.textContent) || 0) + 1;
        el.hidden = false;
      });
      toast(m.title, m.body);
    }
    if (m.type === "alert") toast("Alert: " + label(m.kind), m.message);
    document.dispatchEvent(new CustomEvent("smmd:live", { detail: m }));
  }
  function connect() {
    var ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws");
    ws.onopen = function () { attempt = 0; document.body.dataset.connected = "1"; };
    ws.onmessage = function (e) {
      try { apply(JSON.parse(e.data)); } catch (err) { /* a message we do not know */ }
    };
    ws.onclose = function () {
      document.body.dataset.connected = "0";
      var delay = Math.min(30000, 1000 * Math.pow(2, attempt++));
      setTimeout(connect, delay / 2 + Math.random() * delay / 2);
    };
  }
  connect();
})();
