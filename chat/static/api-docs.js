// Starts Swagger UI on /api/v1/docs over the document named by #swagger-ui's data-openapi-url.
// A file rather than an inline script, so the page works under its strict
// Content-Security-Policy (chat/http/docs.py). Loaded with `defer` after swagger-ui-bundle.js.
(() => {
  "use strict";

  const root = document.getElementById("swagger-ui");
  window.ui = window.SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    domNode: root,
    deepLinking: true,
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    // The default shows a badge fetched from an external validator: no third-party requests.
    validatorUrl: null,
    // Tokens pasted into "Authorize" stay in this tab only.
    persistAuthorization: false,
  });
})();
