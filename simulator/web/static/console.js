// The console works without this script. With it, a page that shows
// something still pending (a callback being retried, an order being
// processed) refreshes the parts marked data-live-region every two
// seconds while the tab is visible, until nothing on it is pending.
(function () {
	"use strict";
	if (!document.body || document.body.dataset.live !== "1" || !window.fetch || !window.DOMParser) {
		return;
	}
	var busy = false;
	function refresh() {
		if (busy || document.hidden) {
			return;
		}
		busy = true;
		fetch(location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
			.then(function (r) { return r.ok ? r.text() : null; })
			.then(function (html) {
				busy = false;
				if (!html) {
					return;
				}
				var doc = new DOMParser().parseFromString(html, "text/html");
				document.querySelectorAll("[data-live-region]").forEach(function (el) {
					var fresh = doc.querySelector('[data-live-region="' + el.dataset.liveRegion + '"]');
					if (fresh && fresh.innerHTML !== el.innerHTML) {
						el.innerHTML = fresh.innerHTML;
					}
				});
				var clock = doc.getElementById("clock-now"), here = document.getElementById("clock-now");
				if (clock && here) {
					here.innerHTML = clock.innerHTML;
				}
				if (doc.body.dataset.live !== "1") {
					document.body.dataset.live = "0";
					clearInterval(timer);
				}
			})
			.catch(function () { busy = false; });
	}
	var timer = setInterval(refresh, 2000);
})();
