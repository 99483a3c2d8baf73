// /api/docs: Swagger UI over the panel's OpenAPI document (the bundle is served by the panel
// itself, see assets/vendor/swagger-ui). Requests made with "Try it out" go to this panel with
// the browser's session cookie, or with the API key given under "Authorize".
(function () {
  // What the CSP refused while the reference rendered (the docs browser check reads it).
  window.smmdCspViolations = [];
  document.addEventListener("securitypolicyviolation", function (e) {
    window.smmdCspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
  });
  var root = document.getElementById("swagger-ui");
  if (!root || !window.SwaggerUIBundle) return;
  window.ui = window.SwaggerUIBundle({
    url: root.dataset.spec,
    domNode: root,
    deepLinking: true,
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    validatorUrl: null,
    defaultModelsExpandDepth: 0,
    docExpansion: "list",
    filter: true,
    tryItOutEnabled: false,
    persistAuthorization: false,
    withCredentials: true
  });
})();
