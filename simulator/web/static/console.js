// The console works without this script. With it, a page that shows
// something still pending (a callback being retried, an order being
// processed) refreshes the parts marked data-live-region when kgsim says
// something changed (server-sent events from /console/events), until
// nothing on it is pending. A browser without EventSource, or whose
// stream was refused, reads the page every two seconds instead.
(function () {
	"use strict";
	var body = document.body;
	if (!body || body.dataset.live !== "1" || !window.fetch || !window.DOMParser) {
		return;
	}
	var busy = false, again = false, events = null, timer = null;
	function stop() {
		if (events) {
			events.close();
		}
		if (timer) {
			clearInterval(timer);
		}
	}
	function refresh() {
		if (busy) {
			again = true; // a change came while reading: read once more
			return;
		}
		if (document.hidden && !events) {
			return;
		}
		busy = true;
		fetch(location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
			.then(function (r) { return r.ok ? r.text() : null; })
			.then(function (html) {
				busy = false;
				if (html) {
					swap(new DOMParser().parseFromString(html, "text/html"));
				}
				if (again) {
					again = false;
					refresh();
				}
			})
			.catch(function () { busy = false; });
	}
	function swap(doc) {
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
			body.dataset.live = "0";
			stop();
		}
	}
	function poll() {
		if (!timer) {
			body.dataset.liveVia = "polling";
			timer = setInterval(refresh, 2000);
		}
	}
	if (!window.EventSource) {
		poll();
		return;
	}
	events = new EventSource("/console/events?since=" + encodeURIComponent(body.dataset.liveVersion || ""));
	body.dataset.liveVia = "events";
	events.addEventListener("change", refresh);
	events.onerror = function () {
		if (events.readyState === EventSource.CLOSED) { // refused, not merely ended: no reconnection
			events = null;
			poll();
		}
	};
})();
