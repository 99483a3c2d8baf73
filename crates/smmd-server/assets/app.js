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
