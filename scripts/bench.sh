#!/usr/bin/env bash
# Runs the protocol benchmarks and prints each target as a ratio against its
# baseline measured in the same run:
#   V2 canonicalise+sign of a 1 KiB body   vs  json.Unmarshal + json.Marshal
#   field decrypt with a cached key        vs  raw AES-CBC of the same bytes
# Usage: scripts/bench.sh [-benchtime 2s] [-count 5]
set -euo pipefail
cd "$(dirname "$0")/.."
args=("$@")
[ ${#args[@]} -gt 0 ] || args=(-benchtime 1s -count 3)

out=$(go test -run '^$' -bench . -benchmem "${args[@]}" ./simulator/protocol/)
echo "$out" | grep -E '^(Benchmark|goos|goarch|cpu)'

# Median ns/op of each benchmark over the -count runs.
median() {
	echo "$out" | awk -v name="^$1-" '$1 ~ name { print $3 }' | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}
ratio() {
	local target baseline
	target=$(median "$1")
	baseline=$(median "$2")
	awk -v t="$target" -v b="$baseline" -v n="$1" -v m="$2" -v goal="$3" \
		'BEGIN { printf "%-32s %10.0f ns/op = %.2fx %s (goal <= %sx)\n", n, t, t / b, m, goal }'
}
echo
ratio BenchmarkCanonicalizeAndSignV2 BenchmarkJSONRoundTrip 2
ratio BenchmarkFieldDecrypt BenchmarkRawAESCBC 2
