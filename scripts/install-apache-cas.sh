#!/usr/bin/env bash
# Installs Debian's apache2 and libapache2-mod-auth-cas when either is
# missing, for the interoperability test in which Apache httpd with
# mod_auth_cas protects a page and logs a user in through kgsim's CAS.
# Non-interactive: CI calls it on a fresh machine before go test. Needs root
# (CI runs as root) or sudo without a password. The packages' own service is
# left stopped: the test starts its own httpd with its own configuration.
set -euo pipefail

# Where the test looks for them (Debian's paths).
server=/usr/sbin/apache2
module=/usr/lib/apache2/modules/mod_auth_cas.so
if [ -x "$server" ] && [ -f "$module" ]; then
	echo "apache-cas: found $server and $module"
	exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
	if ! command -v sudo >/dev/null 2>&1; then
		echo "apache-cas: not installed, and installing it needs root (or sudo): apt-get install apache2 libapache2-mod-auth-cas" >&2
		exit 1
	fi
	sudo=(sudo -n)
fi

echo "apache-cas: installing Debian's apache2 and libapache2-mod-auth-cas packages"
export DEBIAN_FRONTEND=noninteractive
# policy-rc.d answering 101 keeps the packages' scripts from starting the
# system's httpd on port 80 (where there is an init system to do it).
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
"${sudo[@]}" apt-get install -y -qq --no-install-recommends apache2 libapache2-mod-auth-cas >/dev/null
ls "$server" "$module"
