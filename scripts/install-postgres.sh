#!/usr/bin/env bash
# Installs Debian's postgresql package when no PostgreSQL server binaries
# are found, for the tests of the PostgreSQL store and of kgsim serve on
# PostgreSQL. The tests start a throwaway cluster of their own (initdb in a
# temporary directory, a free loopback port); the package's own cluster is
# neither created nor started. PostgreSQL refuses to run as root, so when
# CI runs as root the tests run it as the user postgres, created here if
# missing. CI calls this on a fresh machine before go test.
set -euo pipefail
cd "$(dirname "$0")"

found=""
for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
	if [ -x "$dir/initdb" ] && [ -x "$dir/postgres" ]; then
		found=$dir
		break
	fi
done
if [ -z "$found" ] && command -v initdb >/dev/null 2>&1 && command -v postgres >/dev/null 2>&1; then
	found=$(dirname "$(command -v initdb)")
fi
if [ -n "$found" ]; then
	echo "postgres: found $found"
else
	# postgresql-common would create the package's main cluster: the tests
	# have no use for it.
	sudo=()
	if [ "$(id -u)" -ne 0 ]; then sudo=(sudo -n); fi
	"${sudo[@]}" mkdir -p /etc/postgresql-common/createcluster.d
	echo "create_main_cluster = false" | "${sudo[@]}" tee /etc/postgresql-common/createcluster.d/kgsim-no-main.conf >/dev/null
	bash apt-install.sh postgres postgresql
	ls -d /usr/lib/postgresql/*/bin
fi

if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
	echo "postgres: creating the user postgres, who runs the tests' clusters (PostgreSQL refuses root)"
	useradd --system --user-group --home-dir /var/lib/postgresql --shell /usr/sbin/nologin postgres
fi
