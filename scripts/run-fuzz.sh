#!/bin/sh
# Run the libFuzzer targets.
#   scripts/run-fuzz.sh run SECONDS WORKDIR BIN...  fuzz each BIN for SECONDS
#   scripts/run-fuzz.sh regress BIN...              replay each corpus once
# A target's committed corpus is tests/fuzz/corpus/<target>/: seeds and the
# inputs that once crashed it (crash-*, kept as regression inputs). In run
# mode new coverage goes to WORKDIR/<target>/ (not committed) and a crash is
# written into the committed corpus directory, so that the next
# `make fuzz-regress` replays it until it is fixed.
set -u

corpus_root=tests/fuzz/corpus
mode=${1:-}
[ $# -gt 0 ] && shift

case "$mode" in
run)
	seconds=${1:?SECONDS}
	workdir=${2:?WORKDIR}
	shift 2
	;;
regress) ;;
*)
	echo "usage: run-fuzz.sh run SECONDS WORKDIR BIN... | regress BIN..." >&2
	exit 2
	;;
esac

failed=0
passed=0
for bin in "$@"; do
	name=$(basename "$bin")
	corpus=$corpus_root/$name
	mkdir -p "$corpus"
	if [ "$mode" = regress ]; then
		# Every file once, no mutation: a regression check that takes seconds.
		if "$bin" -runs=0 -artifact_prefix="$bin.regress-" "$corpus" >"$bin.regress.log" 2>&1; then
			n=$(find "$corpus" -type f | wc -l)
			echo "  PASS    $name ($n inputs)"
			passed=$((passed + 1))
		else
			echo "  FAIL    $name: an input in $corpus crashes it; its output:"
			tail -n 40 "$bin.regress.log" | sed 's/^/    | /'
			failed=$((failed + 1))
		fi
		continue
	fi
	mkdir -p "$workdir/$name"
	log=$workdir/$name.log
	"$bin" -max_total_time="$seconds" -timeout=10 -max_len=4096 -print_final_stats=1 \
		-artifact_prefix="$corpus/" "$workdir/$name" "$corpus" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
	units=$(find "$workdir/$name" -type f | wc -l)
	if [ "$rc" -eq 0 ]; then
		echo "  PASS    $name: ${seconds}s, ${execs:-?} execs, ${cov:-cov: ?}, corpus $units"
		passed=$((passed + 1))
	else
		echo "  FAIL    $name: crashed after ${execs:-?} execs; input saved in $corpus/; log $log:"
		grep -A 30 -m 1 -E '^==[0-9]+==|check failed|runtime error|deadly signal' "$log" |
			sed 's/^/    | /'
		failed=$((failed + 1))
	fi
done

echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
