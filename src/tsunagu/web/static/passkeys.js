/* Passkey ceremonies (WebAuthn) for /login/passkey and /my/passkeys.
   Options come from the server as JSON (base64url for binary fields); results go back the same way.
   The CSRF token is read from the page (data-csrf) and sent as X-CSRF-Token. No inline script: CSP script-src 'self'. */
(function () {
  "use strict";

  function toBytes(b64url) {
    var b64 = b64url.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) { b64 += "="; }
    var bin = atob(b64);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { out[i] = bin.charCodeAt(i); }
    return out.buffer;
  }

  function toB64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var bin = "";
    for (var i = 0; i < bytes.length; i++) { bin += String.fromCharCode(bytes[i]); }
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function descriptors(list) {
    return (list || []).map(function (d) {
      var out = { type: d.type, id: toBytes(d.id) };
      if (d.transports) { out.transports = d.transports; }
      return out;
    });
  }

  function creationOptions(o) {
    var pk = Object.assign({}, o);
    pk.challenge = toBytes(o.challenge);
    pk.user = Object.assign({}, o.user, { id: toBytes(o.user.id) });
    pk.excludeCredentials = descriptors(o.excludeCredentials);
    return pk;
  }

  function requestOptions(o) {
    var pk = Object.assign({}, o);
    pk.challenge = toBytes(o.challenge);
    pk.allowCredentials = descriptors(o.allowCredentials);
    return pk;
  }

  function registrationJSON(cred) {
    var r = cred.response;
    return {
      id: cred.id,
      rawId: toB64url(cred.rawId),
      type: cred.type,
      authenticatorAttachment: cred.authenticatorAttachment || undefined,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
      response: {
        clientDataJSON: toB64url(r.clientDataJSON),
        attestationObject: toB64url(r.attestationObject),
        transports: r.getTransports ? r.getTransports() : []
      }
    };
  }

  function assertionJSON(cred) {
    var r = cred.response;
    var out = {
      id: cred.id,
      rawId: toB64url(cred.rawId),
      type: cred.type,
      authenticatorAttachment: cred.authenticatorAttachment || undefined,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
      response: {
        clientDataJSON: toB64url(r.clientDataJSON),
        authenticatorData: toB64url(r.authenticatorData),
        signature: toB64url(r.signature)
      }
    };
    if (r.userHandle) { out.response.userHandle = toB64url(r.userHandle); }
    return out;
  }

  function post(url, csrf, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          var error = new Error(data.detail || "");
          error.fromServer = true;
          throw error;
        }
        return data;
      });
    });
  }

  function say(text, isError) {
    var box = document.getElementById("passkey-message");
    if (!box) { return; }
    box.className = "passkey-message" + (isError ? " alert" : " notice");
    box.textContent = text;
  }

  function explain(root, error) {
    if (error && error.fromServer && error.message) { return root.dataset.msgFailed + " " + error.message; }
    if (error && (error.name === "NotAllowedError" || error.name === "AbortError")) { return root.dataset.msgCancelled; }
    return root.dataset.msgFailed;
  }

  function supported() {
    return !!(window.PublicKeyCredential && navigator.credentials && navigator.credentials.create);
  }

  function setUpLogin(root) {
    var button = document.getElementById("passkey-login-button");
    root.hidden = false;
    if (!supported()) { say(root.dataset.msgUnsupported, true); button.disabled = true; return; }
    button.addEventListener("click", function () {
      button.disabled = true;
      say(root.dataset.msgWorking, false);
      post("/login/passkey/options", root.dataset.csrf, {})
        .then(function (options) { return navigator.credentials.get({ publicKey: requestOptions(options) }); })
        .then(function (cred) {
          return post("/login/passkey/verify", root.dataset.csrf, { credential: assertionJSON(cred), next: root.dataset.next });
        })
        .then(function (result) { window.location.assign(result.next || "/my"); })
        .catch(function (error) { say(explain(root, error), true); button.disabled = false; });
    });
  }

  function setUpRegistration(form) {
    form.hidden = false;
    var button = form.querySelector("button[type=submit]");
    if (!supported()) { say(form.dataset.msgUnsupported, true); button.disabled = true; return; }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      button.disabled = true;
      say(form.dataset.msgWorking, false);
      var body = { label: form.elements.label.value };
      if (form.dataset.replaces) { body.replaces = parseInt(form.dataset.replaces, 10); }
      post("/my/passkeys/options", form.dataset.csrf, body)
        .then(function (options) { return navigator.credentials.create({ publicKey: creationOptions(options) }); })
        .then(function (cred) { return post("/my/passkeys/register", form.dataset.csrf, { credential: registrationJSON(cred) }); })
        .then(function (result) { window.location.assign(result.next || "/my/passkeys"); })
        .catch(function (error) { say(explain(form, error), true); button.disabled = false; });
    });
  }

  var login = document.getElementById("passkey-login");
  if (login) { setUpLogin(login); }
  var register = document.getElementById("passkey-register");
  if (register) { setUpRegistration(register); }
})();
