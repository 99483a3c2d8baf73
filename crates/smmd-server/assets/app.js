// Progressive enhancement for the pages; everything also works without JavaScript, except the
// admin pages' action forms, which send JSON to the admin REST API (see below).

// The page's words in its language (`<meta name="i18n">`, from the server's catalogue), the
// English ones when the page has none; `{name}` holes are filled from `vars`.
var SMMD_I18N = (function () {
  try { return JSON.parse(document.querySelector('meta[name="i18n"]').content); } catch (e) { return {}; }
})();
function smmdT(key, fallback, vars) {
  var s = SMMD_I18N[key] || fallback;
  Object.keys(vars || {}).forEach(function (k) { s = s.split("{" + k + "}").join(String(vars[k])); });
  return s;
}

// A toast in the corner (live notifications, action results).
function smmdToast(title, body, kind) {
  var box = document.getElementById("toasts");
  if (!box) return;
  var t = document.createElement("div");
  t.className = "toast" + (kind ? " " + kind : "");
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

// Admin action forms (`form[data-api]`): the fields go to the form's `action` as JSON with the
// session's CSRF token. `data-type` reads a field as `int`, `bool` or `percent` (→ basis
// points), or (on checkboxes) `ids`: the checked ones' values as a list of numbers (`list`: of
// strings); the
// clicked submit button's own name and value are sent (one form, several decisions); empty
// fields are left out (sent as null with `data-null-if-empty`, as "" with `data-keep-empty`);
// PATCH forms send only the fields that changed. On success the page reloads and says
// `data-done`; on failure the API's message shows under the form and nothing changed.
(function () {
  var meta = document.querySelector('meta[name="csrf-token"]');
  var done = sessionStorage.getItem("smmd-done");
  if (done) { sessionStorage.removeItem("smmd-done"); smmdToast(done, "", "ok"); }
  function value(el) {
    var t = el.dataset.type || "str";
    if (el.type === "checkbox") return el.checked;
    var v = el.value.trim();
    if (v === "") return el.dataset.nullIfEmpty ? null : el.dataset.keepEmpty ? "" : undefined;
    if (t === "int") return Number(v);
    if (t === "bool") return v === "true";
    if (t === "percent") return Math.round(Number(v.replace(",", ".")) * 100);
    return el.value;
  }
  function changed(el) {
    if (el.type === "hidden") return true;
    if (el.type === "checkbox") return el.checked !== el.defaultChecked;
    if (el.tagName === "SELECT") {
      return Array.prototype.some.call(el.options, function (o) { return o.selected !== o.defaultSelected; });
    }
    return el.value !== el.defaultValue;
  }
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!form.dataset || !form.dataset.api) return;
    ev.preventDefault();
    var method = form.dataset.api, body = {}, any = false, path = "";
    var headers = { "content-type": "application/json", "x-csrf-token": meta ? meta.content : "" };
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.disabled || el.type === "submit") return;
      // A two-factor code goes in its header, not the body.
      if (el.dataset.header) { headers[el.dataset.header] = el.value; return; }
      // A `data-path` field ends the address (`/api/admin/currency-rates/` + `RUB`).
      if (el.dataset.path !== undefined) { path += encodeURIComponent(el.value.trim()); return; }
      if (el.dataset.type === "ids" || el.dataset.type === "list") {
        body[el.name] = body[el.name] || [];
        if (el.checked) body[el.name].push(el.dataset.type === "ids" ? Number(el.value) : el.value);
        any = true;
        return;
      }
      if (method === "PATCH" && !changed(el)) return;
      var v = value(el);
      if (v === undefined) return;
      if (typeof v === "number" && isNaN(v)) v = el.value;
      body[el.name] = v;
      any = true;
    });
    var by = ev.submitter;
    if (by && by.name) { body[by.name] = by.value; any = true; }
    var out = form.querySelector(".form-error");
    if (out) out.textContent = "";
    if (method === "PATCH" && !any) { if (out) out.textContent = smmdT("js-nothing-changed", "Nothing changed."); return; }
    var button = by || form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
    // getAttribute: a field named "action" (the review forms have one) shadows form.action.
    fetch(form.getAttribute("action") + path, {
      method: method,
      credentials: "same-origin",
      headers: headers,
      body: JSON.stringify(body)
    }).then(function (r) {
      if (r.ok) {
        sessionStorage.setItem("smmd-done", form.dataset.done || smmdT("js-done", "Done"));
        location.reload();
        return;
      }
      return r.json().catch(function () { return {}; }).then(function (e) {
        var msg = (e && e.error && (e.error.message || e.error)) || smmdT("js-server-answered", "The server answered {status}", { status: r.status });
        if (typeof msg !== "string") msg = JSON.stringify(msg);
        if (out) out.textContent = msg; else smmdToast(smmdT("js-not-done", "Not done"), msg, "err");
        if (button) button.disabled = false;
      });
    }, function () {
      if (out) out.textContent = smmdT("js-unreachable", "The server could not be reached; nothing was changed.");
      if (button) button.disabled = false;
    });
  });
})();

// A select with `data-fill` puts the chosen option's value into that field (a canned reply
// into the answer), where the admin can still edit it.
document.addEventListener("change", function (ev) {
  var pick = ev.target;
  if (!pick.dataset || !pick.dataset.fill || !pick.value) return;
  var into = document.getElementById(pick.dataset.fill);
  if (into) { into.value = pick.value; into.focus(); }
});

// A file input with `data-into` reads the chosen file into that hidden field as a data: URL
// (the admin's logo), so the JSON forms can send it.
document.addEventListener("change", function (ev) {
  var input = ev.target;
  if (!input.dataset || !input.dataset.into || !input.files || !window.FileReader) return;
  var into = document.getElementById(input.dataset.into);
  if (!into) return;
  var file = input.files[0];
  if (!file) { into.value = ""; return; }
  var reader = new FileReader();
  reader.onload = function () { into.value = String(reader.result || ""); };
  reader.readAsDataURL(file);
});

// New order: the search narrows the loaded services as the customer types; a platform, type
// or category reloads the list for it (the server filters the whole catalog).
(function () {
  var pick = document.getElementById("service-pick");
  var search = document.getElementById("service-search");
  if (!pick || !search) return;
  ["service-platform", "service-type", "service-category"].forEach(function (id) {
    var el = document.getElementById(id);
    if (el) el.addEventListener("change", function () {
      pick.disabled = true; // the new list picks its own first service
      pick.form.submit();
    });
  });
  search.addEventListener("input", function () {
    var q = search.value.trim().toLowerCase();
    Array.prototype.forEach.call(pick.querySelectorAll("option"), function (o) {
      var ok = !q || o.textContent.toLowerCase().indexOf(q) >= 0;
      o.hidden = !ok;
      o.disabled = !ok;
    });
    Array.prototype.forEach.call(pick.querySelectorAll("optgroup"), function (g) {
      g.hidden = !g.querySelector("option:not([hidden])");
    });
  });
})();

(function () {
  // Picking a service reloads the form for it (the "Choose" button does the same without JS).
  var pick = document.getElementById("service-pick");
  if (pick) pick.addEventListener("change", function () { pick.form.submit(); });

  // Live order total, with the server's rules (issue 15): a quantity is a whole number (an
  // optional leading +, digits only) within the service's min–max, drip-feed runs 1 to the
  // maximum, and the charge is rate per 1000 × quantity × runs / 1000 rounded up to the
  // micro-unit, in exact integer arithmetic (BigInt), or the package price. Display only: the
  // server computes and checks the charge itself.
  var form = document.getElementById("order-form");
  if (!form) return;
  var out = document.getElementById("order-total");
  var invalid = document.getElementById("order-invalid");
  var rate = BigInt(form.dataset.rateMicros || "0"), pkg = form.dataset.package === "1";
  var min = BigInt(form.dataset.min || "0"), max = BigInt(form.dataset.max || "0");
  var maxRuns = BigInt(form.dataset.maxRuns || "1000");
  function lines(name) {
    var el = form.elements[name];
    return el ? el.value.split(/\r?\n/).filter(function (l) { return l.trim() !== ""; }).length : 0;
  }
  // A whole number as the server reads it, or null.
  function count(text) {
    var t = String(text).trim().replace(/^\+/, "");
    return /^[0-9]{1,18}$/.test(t) ? BigInt(t) : null;
  }
  // Same text as the server's Money display: 2 to 6 decimals, trailing zeros trimmed.
  function money(micros) {
    var whole = micros / 1000000n, frac = (micros % 1000000n).toString().padStart(6, "0");
    frac = frac.replace(/0+$/, "");
    while (frac.length < 2) frac += "0";
    return whole.toString() + "." + frac;
  }
  function show(total, why) {
    out.textContent = total === null ? "—" : money(total);
    if (invalid) { invalid.hidden = !why; invalid.textContent = why || ""; }
    var short = document.getElementById("order-short");
    if (short) short.hidden = total === null || !(total > BigInt(form.dataset.balanceMicros || "0"));
  }
  function update() {
    if (pkg) return show(rate, "");
    var q;
    if (form.elements.quantity) {
      if (form.elements.quantity.value.trim() === "") return show(null, "");
      q = count(form.elements.quantity.value);
      if (q === null) return show(null, smmdT("js-quantity-whole", "The quantity is a whole number."));
      if (q < min || q > max) return show(null, smmdT("js-quantity-range", "The quantity is {min} to {max}.", { min: min, max: max }));
    } else {
      q = BigInt(lines("comments") || lines("usernames"));
    }
    var runs = 1n;
    if (form.elements.runs && form.elements.runs.value.trim() !== "") {
      runs = count(form.elements.runs.value);
      if (runs === null || runs < 1n || runs > maxRuns) return show(null, smmdT("js-runs-range", "Runs are 1 to {max}.", { max: maxRuns }));
    }
    show((rate * q * runs + 999n) / 1000n, "");
  }
  form.addEventListener("input", update);
  update();
})();

// Live updates: one WebSocket per page, reconnected with backoff (1 s doubling to 30 s, with
// jitter). Messages update what the page shows in place; nothing polls. The page says which
// feed position it reflects (body data-feed, "events.ledger.notifications.alerts", each part
// "seq" or "tx:seq"); the socket sends it back (?after=) and replays what was committed since, on
// the first connect and on every reconnect. A message is applied once: one whose (tx, seq) is not
// beyond what was applied of its source (src) is skipped. "resync" (too much missed) reloads the
// page, at most once a minute.
(function () {
  if (!document.body || document.body.dataset.live !== "1" || !window.WebSocket) return;
  var attempt = 0;
  var cursor = null;
  function pos(text) {
    var p = String(text).split(":").map(function (n) { return /^[0-9]+$/.test(n) ? Number(n) : NaN; });
    if (p.length === 1) p.unshift(0);
    return p.length === 2 && p.every(function (n) { return n >= 0; }) ? p : null;
  }
  (function () {
    var p = (document.body.dataset.feed || "").split(".").map(pos);
    if (p.length === 4 && p.every(Boolean)) cursor = { e: p[0], l: p[1], n: p[2], a: p[3] };
  })();
  function fresh(m) {
    if (!cursor || !m.src || !(m.src in cursor)) return true;
    var tx = m.tx || 0, at = cursor[m.src];
    if (tx < at[0] || (tx === at[0] && m.seq <= at[1])) return false;
    cursor[m.src] = [tx, m.seq];
    return true;
  }
  function resync() {
    var last = Number(sessionStorage.getItem("smmd-resync")) || 0;
    if (Date.now() - last < 60000) return;
    sessionStorage.setItem("smmd-resync", String(Date.now()));
    location.reload();
  }
  // A balance's "≈ 9.24 EUR" follows it live: the server's integer rule (smmd_domain::fx),
  // through the euro with the rates the element carries, rounded to the cent.
  function approxText(decimal, el) {
    var m = /^(-?)([0-9]{1,13})(?:\.([0-9]{1,6}))?$/.exec(String(decimal));
    if (!m || !el.dataset.fxFrom || !el.dataset.fxTo) return null;
    var micros = BigInt(m[2]) * 1000000n + BigInt(((m[3] || "") + "000000").slice(0, 6));
    if (m[1]) micros = -micros;
    var from = BigInt(el.dataset.fxFrom), to = BigInt(el.dataset.fxTo), half = from / 2n;
    var v = micros * to;
    var conv = v >= 0n ? (v + half) / from : (v - half) / from;
    var cents = conv >= 0n ? (conv + 5000n) / 10000n : (conv - 5000n) / 10000n;
    var sign = cents < 0n ? "-" : "";
    if (cents < 0n) cents = -cents;
    var frac = String(cents % 100n);
    return "≈ " + sign + String(cents / 100n) + "." + (frac.length < 2 ? "0" + frac : frac) + " " + el.dataset.fxCode;
  }
  function label(status) {
    var named = SMMD_I18N["status-" + status];
    if (named) return named;
    var s = String(status).replace(/_/g, " ");
    return s.charAt(0).toUpperCase() + s.slice(1);
  }
  function refillLabel(status) {
    return smmdT("event-refill", "Refill {status}", { status: label(status).toLowerCase() });
  }
  function each(selector, fn) {
    Array.prototype.forEach.call(document.querySelectorAll(selector), fn);
  }
  var toast = smmdToast;
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  // In the panel's time zone (body data-tz), as the server writes times; the browser's own
  // zone only when the browser cannot.
  var zone = document.body.dataset.tz;
  function when(ms) {
    var d = new Date(ms);
    if (zone && window.Intl) {
      try {
        var p = {};
        new Intl.DateTimeFormat("en-GB", {
          timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit",
          hour: "2-digit", minute: "2-digit", hourCycle: "h23"
        }).formatToParts(d).forEach(function (x) { p[x.type] = x.value; });
        return p.year + "-" + p.month + "-" + p.day + " " + p.hour + ":" + p.minute;
      } catch (err) { /* an unknown zone: the browser's */ }
    }
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " + pad(d.getHours()) + ":" + pad(d.getMinutes());
  }
  // The same text as the server's timeline rows: when, what, the wallet effect, the detail.
  function timelineItem(m, currency) {
    var li = document.createElement("li");
    li.dataset.seq = m.seq;
    var w = document.createElement("span");
    w.className = "when";
    w.textContent = when(m.at);
    var t = document.createElement("span");
    t.className = "what";
    t.textContent = m.event === "cancel_requested" ? smmdT("event-cancel-requested", "Cancel requested")
      : m.event === "refill" ? refillLabel(m.status)
      : m.event === "stuck" ? smmdT("event-stuck-" + m.status, "Taking longer than usual")
      : label(m.status);
    li.appendChild(w);
    li.appendChild(t);
    if (m.amount !== null && m.amount !== undefined) {
      var a = document.createElement("span");
      a.className = "amount";
      a.textContent = m.amount + " " + currency;
      li.appendChild(a);
    }
    if (m.detail) {
      var d = document.createElement("span");
      d.className = "detail";
      d.textContent = m.detail;
      li.appendChild(d);
    }
    return li;
  }
  function apply(m) {
    if (m.type === "hello" || m.type === "balance") {
      each("[data-balance]", function (el) { el.textContent = m.balance; });
      each("[data-balance-approx]", function (el) {
        var text = approxText(m.balance, el);
        if (text) el.textContent = text;
      });
    }
    if (m.type === "hello") {
      each("[data-unread]", function (el) { el.textContent = m.unread; el.hidden = !m.unread; });
      each("[data-unread-count]", function (el) { el.textContent = m.unread; });
      if (typeof m.active === "number") each("[data-active-count]", function (el) { el.textContent = m.active; });
    }
    if (m.type === "order" && m.active) {
      each("[data-active-count]", function (el) { el.textContent = Math.max(0, (Number(el.textContent) || 0) + m.active); });
    }
    if (m.type === "order") {
      each('[data-order="' + m.reference + '"]', function (row) {
        if (m.event === "status" || m.event === "placed") {
          row.dataset.status = m.status;
          var st = row.querySelector("[data-field=status]");
          if (st) { st.textContent = label(m.status); st.className = "status s-" + m.status; }
          var fields = { remains: m.remains, start_count: m.start_count, refunded: m.refunded };
          Object.keys(fields).forEach(function (name) {
            var v = fields[name];
            if (v === null || v === undefined) return;
            Array.prototype.forEach.call(row.querySelectorAll("[data-field=" + name + "]"), function (el) { el.textContent = v; });
          });
        }
        if (m.event === "refill") {
          var rf = row.querySelector("[data-field=refill]");
          if (rf) rf.textContent = refillLabel(m.status);
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
      each('[data-timeline="' + m.reference + '"]', function (ol) {
        if (!ol.querySelector('li[data-seq="' + m.seq + '"]')) ol.appendChild(timelineItem(m, ol.dataset.currency || ""));
      });
    }
    if (m.type === "notification") {
      each("[data-unread], [data-unread-count]", function (el) {
        el.textContent = (Number(el.textContent) || 0) + 1;
        el.hidden = false;
      });
      toast(m.title, m.body);
    }
    if (m.type === "alert") toast(smmdT("js-alert", "Alert: {kind}", { kind: label(m.kind) }), m.message);
    document.dispatchEvent(new CustomEvent("smmd:live", { detail: m }));
  }
  function connect() {
    var after = cursor ? "?after=" + [cursor.e, cursor.l, cursor.n, cursor.a].map(function (p) {
      return p[0] ? p[0] + ":" + p[1] : String(p[1]);
    }).join(".") : "";
    var ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws" + after);
    ws.onopen = function () { attempt = 0; document.body.dataset.connected = "1"; };
    ws.onmessage = function (e) {
      var m;
      try { m = JSON.parse(e.data); } catch (err) { return; /* not a message */ }
      if (m.type === "resync") { resync(); return; }
      if (!fresh(m)) return;
      try { apply(m); } catch (err) { /* a message we do not know */ }
    };
    ws.onclose = function () {
      document.body.dataset.connected = "0";
      var delay = Math.min(30000, 1000 * Math.pow(2, attempt++));
      setTimeout(connect, delay / 2 + Math.random() * delay / 2);
    };
  }
  connect();
})();
