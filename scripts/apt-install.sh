#!/usr/bin/env bash
# Installs Debian packages for the tests, non-interactively, as root or
# through sudo without a password; the scripts that need a package call it
# once they have found it missing. Packages that ship a service (a web
# server, a database) are installed without starting it: policy-rc.d
# answering 101 keeps their scripts from starting it where an init system
# would, and the tests start their own with their own configuration.
# Usage: scripts/apt-install.sh WHAT PACKAGE...
set -euo pipefail
what=$1
shift

sudo=()
if [ "$(id -u)" -ne 0 ]; then
	if ! command -v sudo >/dev/null 2>&1; then
		echo "$what: not installed, and installing it needs root (or sudo): apt-get install $*" >&2
		exit 1
	fi
	sudo=(sudo -n)
fi

echo "$what: installing Debian's $* package(s)"
export DEBIAN_FRONTEND=noninteractive
policy=/usr/sbin/policy-rc.d
added_policy=false
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
	"${sudo[@]}" chmod 755 "$policy"
	added_policy=true
fi
cleanup() {
	if $added_policy; then "${sudo[@]}" rm -f "$policy"; fi
}
trap cleanup EXIT
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "$@" >/dev/null
