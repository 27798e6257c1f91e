#!/usr/bin/env bash
# Installs Debian's chromium package when no Chromium or Chrome binary is on
# PATH, for the identity provider's browser test (chromedp). Non-interactive:
# CI calls it on a fresh machine before go test. Needs root (CI runs as root)
# or sudo without a password.
set -euo pipefail

for bin in chromium chromium-browser google-chrome google-chrome-stable headless-shell; do
	if command -v "$bin" >/dev/null 2>&1; then
		echo "chromium: found $(command -v "$bin")"
		exit 0
	fi
done

sudo=()
if [ "$(id -u)" -ne 0 ]; then
	if ! command -v sudo >/dev/null 2>&1; then
		echo "chromium: not installed, and installing it needs root (or sudo): apt-get install chromium" >&2
		exit 1
	fi
	sudo=(sudo -n)
fi

echo "chromium: installing Debian's chromium package"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk >/dev/null
command -v chromium
