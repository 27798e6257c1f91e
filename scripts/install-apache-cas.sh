#!/usr/bin/env bash
# Installs Debian's apache2 and libapache2-mod-auth-cas when either is
# missing, for the interoperability test in which Apache httpd with
# mod_auth_cas protects a page and logs a user in through kgsim's CAS.
# CI calls it on a fresh machine before go test. The packages' own service
# is left stopped: the test starts its own httpd with its own configuration.
set -euo pipefail
cd "$(dirname "$0")"

# Where the test looks for them (Debian's paths).
server=/usr/sbin/apache2
module=/usr/lib/apache2/modules/mod_auth_cas.so
if [ -x "$server" ] && [ -f "$module" ]; then
	echo "apache-cas: found $server and $module"
	exit 0
fi
bash apt-install.sh apache-cas apache2 libapache2-mod-auth-cas
ls "$server" "$module"
