#!/usr/bin/env bash
# Installs Debian's chromium package when no Chromium or Chrome binary is on
# PATH, for the tests that drive kgsim's pages through a real browser
# (chromedp). CI calls it on a fresh machine before go test.
set -euo pipefail
cd "$(dirname "$0")"

for bin in chromium chromium-browser google-chrome google-chrome-stable headless-shell; do
	if command -v "$bin" >/dev/null 2>&1; then
		echo "chromium: found $(command -v "$bin")"
		exit 0
	fi
done
bash apt-install.sh chromium chromium fonts-noto-cjk
command -v chromium
