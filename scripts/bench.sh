#!/usr/bin/env bash
# Runs kgsim's benchmarks and prints each target as a ratio against a
# baseline measured in the same run:
#   V2 canonicalise+sign of a 1 KiB body   vs  json.Unmarshal + json.Marshal
#   field decrypt with a cached key        vs  raw AES-CBC of the same bytes
#   a delivered callback (signed, sent, judged, stored in SQLite)
#                                          vs  a bare loopback POST
#   30 days of trials per instance, 1,000 and 2,000 instances
#                                          vs  the same for 100 instances (linear: ~1x)
#   a token exchange, a userinfo call (32 clients, SQLite)
#                                          vs  a trivial JSON handler on the same server
# and the delivery throughput and live heap at 20,000 and 100,000 callbacks
# (flat memory: the same heap at both), the token endpoint's rate, p50, p99;
# and end to end, 10,000 and 100,000 purchases through a real kgsim serve's
# admin API (8 clients, a loopback V2 merchant, judged, settled, persisted)
#                                          vs  the bare loop of the same signed
#                                              calls to the same merchant
# with CPU per purchase, peak RSS and database bytes per purchase; the
# store's ceiling, purchases placed and settled straight through the
# engine by 16 goroutines with no HTTP, signing or scheduling (what the
# one SQLite writer can take at most)
#                                          vs  the same bare loop; and the
# open APIs on loopback over SQLite, order queries and 100-record usage
# pushes, alternated with
#                                              a trivial APIG-verified JSON
#                                              handler on the same server.
# Usage: scripts/bench.sh [-count 3]
set -euo pipefail
cd "$(dirname "$0")/.."
count=(-count 3)
[ $# -eq 0 ] || count=("$@")

out=$(
	go test -run '^$' -bench . -benchmem -benchtime 1s "${count[@]}" ./simulator/protocol/
	go test -run '^$' -bench 'Deliver|LoopbackPost' -benchtime 20000x "${count[@]}" ./simulator/delivery/
	go test -run '^$' -bench 'Deliver/workers=8' -benchtime 100000x -count 1 ./simulator/delivery/ | sed 's/^BenchmarkDeliver/BenchmarkDeliver100k/'
	go test -run '^$' -bench ThirtyDays -benchtime 1x "${count[@]}" ./simulator/schedule/
	go test -run '^$' -bench . -benchtime 30000x "${count[@]}" ./simulator/identity/
	go test -run '^$' -bench EndToEnd -benchtime 10000x "${count[@]}" ./simulator/cmd/kgsim/
	go test -run '^$' -bench EndToEnd -benchtime 100000x -count 1 ./simulator/cmd/kgsim/ | sed 's/^BenchmarkEndToEnd/BenchmarkEndToEnd100k/'
	go test -run '^$' -bench StoreCeiling -benchtime 10000x "${count[@]}" ./simulator/engine/
	go test -run '^$' -bench OrderQuery -benchtime 20000x "${count[@]}" ./simulator/openapi/
	go test -run '^$' -bench UsagePush -benchtime 2000x "${count[@]}" ./simulator/openapi/
)
echo "$out" | grep -E '^(Benchmark|goos|goarch|cpu)'

# Median of a benchmark's column ($2: the unit that follows the value)
# over the -count runs.
median() {
	echo "$out" | awk -v name="^$1-" -v unit="$2" '$1 ~ name { for (i = 3; i <= NF; i++) if ($(i+1) == unit) print $i }' |
		sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}
ratio() {
	local target baseline
	target=$(median "$1" "$4")
	baseline=$(median "$2" "$4")
	awk -v t="$target" -v b="$baseline" -v n="$1" -v m="$2" -v goal="$3" -v unit="$4" \
		'BEGIN { printf "%-40s %12.0f %s = %.2fx %s (%s)\n", n, t, unit, t / b, m, goal }'
}
echo
ratio BenchmarkCanonicalizeAndSignV2 BenchmarkJSONRoundTrip "goal <= 2x" ns/op
ratio BenchmarkFieldDecrypt BenchmarkRawAESCBC "goal <= 2x" ns/op
ratio 'BenchmarkDeliver/workers=8' BenchmarkLoopbackPost "the cost of signing, judging and persisting" ns/op
ratio 'BenchmarkThirtyDays/instances=1000' 'BenchmarkThirtyDays/instances=100' "goal ~1x: linear" ns/instance
ratio 'BenchmarkThirtyDays/instances=2000' 'BenchmarkThirtyDays/instances=100' "goal ~1x: linear" ns/instance
ratio BenchmarkTokenExchange BenchmarkBaselineJSON "per request, 32 clients" ns/op
ratio BenchmarkUserinfo BenchmarkBaselineJSON "per request, 32 clients" ns/op
printf '%-40s %12.0f exchanges/s, p50 %s ms, p99 %s ms (goal >= 5000/s)\n' BenchmarkTokenExchange \
	"$(median BenchmarkTokenExchange req/s)" "$(median BenchmarkTokenExchange p50-ms)" "$(median BenchmarkTokenExchange p99-ms)"
printf '%-40s %12.0f callbacks/s (goal >= 2000)\n' 'BenchmarkDeliver/workers=8' "$(median 'BenchmarkDeliver/workers=8' callbacks/s)"
printf '%-40s %12.0f callbacks/s, live heap %s MiB at 20k and %s MiB at 100k (goal: flat)\n' 'BenchmarkDeliver100k/workers=8' \
	"$(median 'BenchmarkDeliver100k/workers=8' callbacks/s)" "$(median 'BenchmarkDeliver/workers=8' heapMiB)" "$(median 'BenchmarkDeliver100k/workers=8' heapMiB)"
printf '%-40s %12.3f s for 1,000 instances, %s callbacks and transitions\n' '30 days of trials' \
	"$(median 'BenchmarkThirtyDays/instances=1000' ns/op | awk '{ print $1 / 1e9 }')" "$(median 'BenchmarkThirtyDays/instances=1000' work/run)"
for e2e in BenchmarkEndToEnd BenchmarkEndToEnd100k; do
	printf '%-40s %12.0f purchases/s = %.3fx the bare loop (%s/s) (goal >= 0.25x); %s ms CPU, %s bytes of database per purchase, peak RSS %s MiB\n' \
		"$e2e" "$(median $e2e purchases/s)" "$(median $e2e ratio)" "$(median $e2e bare/s)" \
		"$(median $e2e cpu-ms/purchase)" "$(median $e2e db-bytes/purchase)" "$(median $e2e peak-MiB)"
done
printf '%-40s %12.0f purchases/s = %.3fx the bare loop (%s/s): the one SQLite writer'"'"'s ceiling, nothing else running\n' BenchmarkStoreCeiling \
	"$(median BenchmarkStoreCeiling purchases/s)" "$(awk -v c="$(median BenchmarkStoreCeiling purchases/s)" -v b="$(median BenchmarkEndToEnd bare/s)" 'BEGIN { print c / b }')" \
	"$(median BenchmarkEndToEnd bare/s)"
printf '%-40s %12.0f queries/s = %.2fx a trivial handler (%s/s) (goal >= 5000/s)\n' BenchmarkOrderQuery \
	"$(median BenchmarkOrderQuery queries/s)" "$(median BenchmarkOrderQuery x-trivial)" "$(median BenchmarkOrderQuery trivial-queries/s)"
printf '%-40s %12.0f records/s = %.2fx a trivial handler (%s/s) (goal >= 20000/s)\n' BenchmarkUsagePush \
	"$(median BenchmarkUsagePush records/s)" "$(median BenchmarkUsagePush x-trivial)" "$(median BenchmarkUsagePush trivial-records/s)"
