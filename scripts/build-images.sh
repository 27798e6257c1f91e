#!/usr/bin/env bash
# Builds the container images kgsim:local and kgsim-merchant:local from this
# checkout without pulling anything: each binary is built here as a static
# Go binary (CGO_ENABLED=0) into a temporary build context next to its
# Dockerfile (FROM scratch), and `docker build` only copies it in.
#
#   scripts/build-images.sh              # both images
#   scripts/build-images.sh merchant     # kgsim-merchant:local only
#   scripts/build-images.sh kgsim        # kgsim:local only
#
# Then `docker-compose up -d` runs them together (docker-compose.yml).
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "build-images: $*" >&2; exit 1; }

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(kgsim merchant)
for target in "${targets[@]}"; do
	case $target in
	kgsim | merchant) ;;
	*) die "unknown image $target: give kgsim, merchant, or nothing for both" ;;
	esac
done

command -v go >/dev/null || die "go is not on PATH; install Go 1.26 or later"
command -v docker >/dev/null || die "docker is not installed; install Docker Engine to build the images (kgsim itself runs without it: go run ./simulator/cmd/kgsim)"
docker version --format '{{.Server.Version}}' >/dev/null 2>&1 ||
	die "no Docker daemon answers (docker version failed); start it, or check DOCKER_HOST and your permission on the socket"


context=$(mktemp -d)
trap 'rm -rf "$context"' EXIT

# static NAME PACKAGE: a binary that needs no libc, no tzdata and no /tmp.
static() {
	CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$context/$1/$1" "$2"
}

for target in "${targets[@]}"; do
	case $target in
	kgsim)
		mkdir -p "$context/kgsim/data"
		static kgsim ./simulator/cmd/kgsim
		cp simulator/cmd/kgsim/Dockerfile "$context/kgsim/"
		ca=/etc/ssl/certs/ca-certificates.crt
		if [ -f "$ca" ]; then
			cp "$ca" "$context/kgsim/ca-certificates.crt"
		else
			echo "build-images: $ca not found; kgsim:local will not trust any https merchant" >&2
			: >"$context/kgsim/ca-certificates.crt"
		fi
		docker build --quiet --tag kgsim:local "$context/kgsim" >/dev/null
		echo "built kgsim:local"
		;;
	merchant)
		mkdir -p "$context/kgsim-merchant"
		static kgsim-merchant ./fixtures/merchant/cmd/kgsim-merchant
		cp fixtures/merchant/Dockerfile "$context/kgsim-merchant/"
		docker build --quiet --tag kgsim-merchant:local "$context/kgsim-merchant" >/dev/null
		echo "built kgsim-merchant:local"
		;;
	esac
done
