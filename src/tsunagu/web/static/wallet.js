/* The citizen's wallet in this browser (/my/wallet and /my/wallet/present/{id}).
   One holder key per browser: a P-256 ECDSA key made with WebCrypto, NOT extractable, kept in IndexedDB (the
   private key never leaves the device; only its public JWK is sent to be bound as cnf.jwk). Credentials (SD-JWT
   VCs, issuer-jwt~disclosure~...~) are kept in IndexedDB too, each tagged with the page's pseudonym of the
   logged-in person, so that people sharing a browser see only their own. A presentation keeps only the disclosures of the
   claims the verifier asks for (and those on the way to them), then a KB-JWT {iat, aud, nonce, sd_hash} signed
   with the holder key (WebCrypto's ECDSA signature is r||s, the JWS format).
   Texts and data come from the page (data-* attributes). No inline script: CSP script-src 'self'. */
(function () {
  "use strict";

  var DB_NAME = "tsunagu-wallet";
  var HOLDER = "holder";
  var HIDDEN_CLAIMS = ["iss", "iat", "nbf", "exp", "vct", "cnf", "status", "_sd", "_sd_alg"];

  /* ---------- encodings ---------- */

  function b64u(bytes) {
    var bin = "";
    for (var i = 0; i < bytes.length; i++) { bin += String.fromCharCode(bytes[i]); }
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function fromB64u(text) {
    var b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) { b64 += "="; }
    var bin = atob(b64);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { out[i] = bin.charCodeAt(i); }
    return out;
  }

  function utf8(text) { return new TextEncoder().encode(text); }
  function jsonOf(part) { return JSON.parse(new TextDecoder().decode(fromB64u(part))); }
  function jsonPart(value) { return b64u(utf8(JSON.stringify(value))); }

  function sha256b64u(ascii) {
    return crypto.subtle.digest("SHA-256", utf8(ascii)).then(function (d) { return b64u(new Uint8Array(d)); });
  }

  /* ---------- SD-JWT ---------- */

  function split(compact) {
    var parts = compact.split("~");
    return { issuerJwt: parts[0], disclosures: parts.slice(1, -1).filter(function (d) { return d; }) };
  }

  function issuerPayload(compact) { return jsonOf(split(compact).issuerJwt.split(".")[1]); }

  /* encoded disclosure -> {name, value, digest} */
  function decodeAll(disclosures) {
    return Promise.all(disclosures.map(function (encoded) {
      return sha256b64u(encoded).then(function (digest) {
        var content = jsonOf(encoded);
        return content.length === 3
          ? { encoded: encoded, digest: digest, name: content[1], value: content[2] }
          : { encoded: encoded, digest: digest, name: null, value: content[1] };
      });
    }));
  }

  /* Walk the issuer's claims as RFC 9901 §7.1 does: each disclosure found through a digest gets its claim path. */
  function walk(value, path, byDigest, found) {
    if (Array.isArray(value)) {
      value.forEach(function (item, index) {
        var keys = item && typeof item === "object" && !Array.isArray(item) ? Object.keys(item) : [];
        var d = keys.length === 1 && keys[0] === "..." ? byDigest[item["..."]] : null;
        if (d && d.name === null) {
          found.push({ disclosure: d, path: path.concat([index]) });
          walk(d.value, path.concat([index]), byDigest, found);
        } else {
          walk(item, path.concat([index]), byDigest, found);
        }
      });
    } else if (value && typeof value === "object") {
      (Array.isArray(value._sd) ? value._sd : []).forEach(function (digest) {
        var d = byDigest[digest];
        if (d && d.name !== null) {
          found.push({ disclosure: d, path: path.concat([d.name]) });
          walk(d.value, path.concat([d.name]), byDigest, found);
        }
      });
      Object.keys(value).forEach(function (name) {
        if (name !== "_sd" && name !== "_sd_alg" && name !== "...") { walk(value[name], path.concat([name]), byDigest, found); }
      });
    }
    return found;
  }

  function disclosurePaths(compact) {
    var parts = split(compact);
    return decodeAll(parts.disclosures).then(function (decoded) {
      var byDigest = {};
      decoded.forEach(function (d) { byDigest[d.digest] = d; });
      return walk(issuerPayload(compact), [], byDigest, []);
    });
  }

  function startsWith(path, prefix) {
    if (prefix.length > path.length) { return false; }
    for (var i = 0; i < prefix.length; i++) { if (path[i] !== prefix[i]) { return false; } }
    return true;
  }

  /* Kept: a disclosure whose path is asked, leads to an asked path (a parent) or lies inside one. */
  function related(path, asked) {
    return asked.some(function (a) { return startsWith(path, a) || startsWith(a, path); });
  }

  /* The claims in plain form: every digest replaced by its disclosed member (for display). */
  function reveal(value, byDigest) {
    if (Array.isArray(value)) {
      return value.filter(function (item) {
        return !(item && typeof item === "object" && Object.keys(item).length === 1 && "..." in item) || byDigest[item["..."]];
      }).map(function (item) {
        var d = item && typeof item === "object" && "..." in item ? byDigest[item["..."]] : null;
        return reveal(d ? d.value : item, byDigest);
      });
    }
    if (value && typeof value === "object") {
      var out = {};
      (Array.isArray(value._sd) ? value._sd : []).forEach(function (digest) {
        var d = byDigest[digest];
        if (d && d.name !== null) { out[d.name] = reveal(d.value, byDigest); }
      });
      Object.keys(value).forEach(function (name) {
        if (name !== "_sd" && name !== "_sd_alg") { out[name] = reveal(value[name], byDigest); }
      });
      return out;
    }
    return value;
  }

  function claimsOf(compact) {
    return decodeAll(split(compact).disclosures).then(function (decoded) {
      var byDigest = {};
      decoded.forEach(function (d) { byDigest[d.digest] = d; });
      return reveal(issuerPayload(compact), byDigest);
    });
  }

  function sameKey(a, b) {
    return !!a && !!b && ["kty", "crv", "x", "y"].every(function (k) { return a[k] === b[k]; });
  }

  /* The presentation: issuer-jwt~(kept disclosures)~kb-jwt. */
  function present(compact, asked, aud, nonce, holder) {
    var parts = split(compact);
    var bound = (issuerPayload(compact).cnf || {}).jwk;
    if (!sameKey(bound, holder.jwk)) { return Promise.reject(new Error("not-bound")); }
    return disclosurePaths(compact).then(function (found) {
      var keep = {};
      found.forEach(function (f) { if (related(f.path, asked)) { keep[f.disclosure.encoded] = true; } });
      var kept = parts.disclosures.filter(function (d) { return keep[d]; });
      var presented = [parts.issuerJwt].concat(kept).join("~") + "~";
      return sha256b64u(presented).then(function (sdHash) {
        var signingInput = jsonPart({ typ: "kb+jwt", alg: "ES256" }) + "." +
          jsonPart({ iat: Math.floor(Date.now() / 1000), aud: aud, nonce: nonce, sd_hash: sdHash });
        return crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, holder.privateKey, utf8(signingInput))
          .then(function (sig) { return presented + signingInput + "." + b64u(new Uint8Array(sig)); });
      });
    });
  }

  /* ---------- IndexedDB ---------- */

  function openDb() {
    return new Promise(function (resolve, reject) {
      var req = indexedDB.open(DB_NAME, 1);
      req.onupgradeneeded = function () {
        req.result.createObjectStore("keys");
        req.result.createObjectStore("credentials", { keyPath: "key" });
      };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }

  function store(name, mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = db.transaction(name, mode);
        var req = work(t.objectStore(name));
        t.oncomplete = function () { db.close(); resolve(req ? req.result : undefined); };
        t.onerror = function () { db.close(); reject(t.error); };
        t.onabort = function () { db.close(); reject(t.error); };
      });
    });
  }

  /* The browser's holder key, made on first use: the private half is not extractable. */
  function holderKey() {
    return store("keys", "readonly", function (s) { return s.get(HOLDER); }).then(function (found) {
      if (found) { return found; }
      return crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"])
        .then(function (pair) {
          return crypto.subtle.exportKey("jwk", pair.publicKey).then(function (jwk) {
            var holder = { privateKey: pair.privateKey, jwk: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y } };
            return store("keys", "readwrite", function (s) { return s.put(holder, HOLDER); }).then(function () { return holder; });
          });
        });
    });
  }

  /* The credentials of one person (owner: the page's pseudonym of the logged-in person), newest first. */
  function allCredentials(owner) {
    return store("credentials", "readonly", function (s) { return s.getAll(); }).then(function (list) {
      return (list || []).filter(function (c) { return c.owner === owner; })
        .sort(function (a, b) { return a.added < b.added ? 1 : -1; });
    });
  }

  /* ---------- page helpers ---------- */

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function say(box, text, isError) {
    box.hidden = false;
    box.className = isError ? "alert" : "notice";
    box.setAttribute("role", isError ? "alert" : "status");
    box.textContent = text;
  }

  function label(labels, name) { return (labels[name] || name); }

  /* Claims in the page's order of labels (the issuer's _sd order is sorted digests: meaningless to a person). */
  function inOrder(names, labels) {
    var order = Object.keys(labels);
    function rank(n) { var i = order.indexOf(n); return i < 0 ? order.length : i; }
    return names.slice().sort(function (a, b) { return rank(a) - rank(b) || (a < b ? -1 : 1); });
  }

  function show(value, labels) {
    if (value === true) { return labels._yes; }
    if (value === false) { return labels._no; }
    if (Array.isArray(value)) { return value.map(function (v) { return show(v, labels); }).join(", ") || labels._none; }
    if (value && typeof value === "object") {
      if (value.vehicle_category_code) {
        return label(labels, "vc:" + value.vehicle_category_code) + " (" + value.issue_date + ")";
      }
      return Object.keys(value).map(function (k) { return show(value[k], labels); }).join(" ");
    }
    return String(value);
  }

  function factsList(claims, names, labels) {
    var dl = el("dl", { "class": "facts" });
    names.forEach(function (name) {
      var row = el("div");
      row.appendChild(el("dt", {}, label(labels, name)));
      row.appendChild(el("dd", {}, show(claims[name], labels)));
      dl.appendChild(row);
    });
    return dl;
  }

  function postJson(url, csrf, body) {
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

  function dateText(iso) { return iso ? iso.slice(0, 10) : ""; }

  /* ---------- /my/wallet ---------- */

  function renderList(root, labels) {
    var list = document.getElementById("wallet-list");
    var empty = document.getElementById("wallet-empty");
    return allCredentials(root.dataset.owner).then(function (creds) {
      list.textContent = "";
      empty.hidden = creds.length > 0;
      return Promise.all(creds.map(function (cred) { return claimsOf(cred.compact).then(function (c) { return [cred, c]; }); }));
    }).then(function (rows) {
      rows.forEach(function (row) {
        var cred = row[0], claims = row[1];
        var item = el("li", { "class": "card wallet-credential", "data-vct": cred.vct });
        item.appendChild(el("h3", {}, cred.title || cred.vct));
        var names = inOrder(Object.keys(claims).filter(function (n) { return HIDDEN_CLAIMS.indexOf(n) < 0; }), labels);
        item.appendChild(factsList(claims, names, labels));
        item.appendChild(el("p", {}, root.dataset.msgExpires + " " + dateText(cred.expires_at)));
        var remove = el("button", { type: "button", "class": "button secondary" }, root.dataset.msgRemove);
        remove.setAttribute("aria-label", root.dataset.msgRemove + ": " + (cred.title || cred.vct));
        remove.addEventListener("click", function () {
          store("credentials", "readwrite", function (s) { return s.delete(cred.key); }).then(function () {
            say(document.getElementById("wallet-message"), root.dataset.msgRemoved, false);
            return renderList(root, labels);
          });
        });
        item.appendChild(remove);
        list.appendChild(item);
      });
    });
  }

  function addCredential(root, button, labels) {
    var box = document.getElementById("wallet-message");
    button.disabled = true;
    say(box, root.dataset.msgWorking, false);
    holderKey().then(function (holder) {
      return postJson(root.dataset.endpoint, root.dataset.csrf, { kind: button.dataset.kind, holder_jwk: holder.jwk })
        .then(function (issued) {
          var bound = (issuerPayload(issued.credential).cnf || {}).jwk;
          if (!sameKey(bound, holder.jwk)) { throw new Error(root.dataset.msgNotBound); }
          return store("credentials", "readwrite", function (s) {
            return s.put({
              key: issued.vct + "#" + issued.credential_id,
              owner: root.dataset.owner,
              credential_id: issued.credential_id,
              kind: issued.kind,
              vct: issued.vct,
              title: button.dataset.title,
              compact: issued.credential,
              expires_at: issued.expires_at,
              added: new Date().toISOString()
            });
          });
        });
    }).then(function () {
      say(box, root.dataset.msgAdded.replace("{title}", button.dataset.title), false);
      return renderList(root, labels);
    }).catch(function (error) {
      say(box, root.dataset.msgFailed + (error && error.message ? " " + error.message : ""), true);
    }).then(function () { button.disabled = false; });
  }

  function setUpWallet(root) {
    var labels = JSON.parse(root.dataset.labels);
    if (!window.indexedDB || !window.crypto || !crypto.subtle) {
      say(document.getElementById("wallet-message"), root.dataset.msgUnsupported, true);
      return;
    }
    root.hidden = false;
    Array.prototype.forEach.call(document.querySelectorAll("button.wallet-add"), function (button) {
      button.parentNode.hidden = false;
      button.addEventListener("click", function () { addCredential(root, button, labels); });
    });
    renderList(root, labels);
  }

  /* ---------- /my/wallet/present/{id} ---------- */

  function setUpPresent(root) {
    var labels = JSON.parse(root.dataset.labels);
    var request = JSON.parse(root.dataset.request);
    var box = document.getElementById("present-message");
    if (!window.indexedDB || !window.crypto || !crypto.subtle) { say(box, root.dataset.msgUnsupported, true); return; }
    root.hidden = false;
    Promise.all([allCredentials(root.dataset.owner), holderKey()]).then(function (found) {
      var holder = found[1];
      var matching = found[0].filter(function (c) {
        return c.vct === request.vct && sameKey((issuerPayload(c.compact).cnf || {}).jwk, holder.jwk) &&
          (!c.expires_at || new Date(c.expires_at) > new Date());
      });
      if (!matching.length) { say(box, root.dataset.msgNoCredential, true); return; }
      var cred = matching[0];
      return claimsOf(cred.compact).then(function (claims) {
        var asked = request.claims.map(function (p) { return Array.isArray(p) ? p : [p]; });
        var top = asked.map(function (p) { return p[0]; }).filter(function (n, i, a) { return a.indexOf(n) === i; });
        var missing = top.filter(function (n) { return !(n in claims); });
        if (missing.length) { say(box, root.dataset.msgNoCredential, true); return; }
        var shared = document.getElementById("present-shared");
        shared.appendChild(factsList(claims, top, labels));
        var held = inOrder(Object.keys(claims).filter(function (n) { return HIDDEN_CLAIMS.indexOf(n) < 0 && top.indexOf(n) < 0; }), labels);
        document.getElementById("present-kept").textContent = held.map(function (n) { return label(labels, n); }).join("、");
        document.getElementById("present-consent").hidden = false;
        var button = document.getElementById("present-button");
        button.addEventListener("click", function () {
          button.disabled = true;
          say(box, root.dataset.msgWorking, false);
          present(cred.compact, asked, request.aud, request.nonce, holder).then(function (vpToken) {
            return fetch(request.response_uri, {
              method: "POST",
              credentials: "omit",
              headers: { "Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json" },
              body: "vp_token=" + encodeURIComponent(vpToken)
            });
          }).then(function (response) {
            return response.json().catch(function () { return {}; });
          }).then(function (answer) {
            if (answer.status === "valid") {
              say(box, root.dataset.msgValid, false);
            } else {
              var why = document.documentElement.lang === "en" ? answer.message_en : answer.message_ja;
              say(box, root.dataset.msgInvalid + (why || answer.reason ? " " + (why || answer.reason) : ""), true);
            }
          }).catch(function () {
            say(box, root.dataset.msgFailed, true);
            button.disabled = false;
          });
        });
      });
    }).catch(function () { say(box, root.dataset.msgFailed, true); });
  }

  var wallet = document.getElementById("wallet");
  if (wallet) { setUpWallet(wallet); }
  var presentRoot = document.getElementById("present");
  if (presentRoot) { setUpPresent(presentRoot); }
})();
