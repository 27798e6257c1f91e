// The real unified login page carries its parameters in the URL fragment
// (#/portal-login?ind=UNOP&appId=...), which a browser never sends to the
// server. This moves them into the query once, so that the server checks
// them and renders the form; without JavaScript the same query works by
// hand. The fragment stays, so the address reads as on the real page.
(function () {
	var m = /^#\/portal-login\?(.*)$/.exec(window.location.hash);
	if (!m) {
		return;
	}
	var query = new URLSearchParams(window.location.search);
	if (query.has("flow") || query.has("appId") || query.has("ind")) {
		return; // rendered with its parameters already
	}
	var fragment = new URLSearchParams(m[1]);
	var moved = false;
	["ind", "appId", "state"].forEach(function (name) {
		if (fragment.has(name)) {
			query.set(name, fragment.get(name));
			moved = true;
		}
	});
	if (moved) {
		window.location.replace(window.location.pathname + "?" + query.toString() + window.location.hash);
	}
})();
