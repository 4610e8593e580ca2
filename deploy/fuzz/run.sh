#!/usr/bin/env bash
# The long form of the fuzzing of issue #7: builds the libFuzzer executables
# (release, -sanitize=fuzzer,address) and runs each target for a bounded time
# on a scratch copy of its committed seed corpus and regression inputs.
#
#   deploy/fuzz/run.sh [SECONDS_PER_TARGET] [TARGET[:SECONDS]...]   (default 300 s, every target; 0: build only)
#
# Writes deploy/fuzz/results/latest.md (per target: seconds, runs, exec/s,
# coverage, features, new corpus units, crashes). A crash, timeout or OOM
# input is minimized and copied to deploy/fuzz/regressions/TARGET/ (commit it
# with the fix and a regression test); the script then exits 1.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
seconds="${1:-300}"
shift || true
all_targets=(config-loader pin-token cookie-header rule-matcher forwarded-for value-parsers header-hygiene upstream-response client-request)
if [ "$#" -gt 0 ]; then targets=("$@"); else targets=("${all_targets[@]}"); fi
for entry in "${targets[@]}"; do
    target="${entry%%:*}"
    [ -d "$here/corpus/$target" ] || { echo "unknown target: $target (one of: ${all_targets[*]})" >&2; exit 2; }
done

# What it needs: Swift's toolchain with its libFuzzer and ASan runtimes.
command -v swift >/dev/null || { echo "swift not found (expected the toolchain at /opt/swift)" >&2; exit 1; }
resource_dir="$(dirname "$(readlink -f "$(command -v swift)")")/../lib"
if ! find "$resource_dir" -name 'libclang_rt.fuzzer-*.a' 2>/dev/null | grep -q .; then
    echo "this Swift toolchain ships no libFuzzer runtime (libclang_rt.fuzzer); install a toolchain from swift.org" >&2
    exit 1
fi

# Swift's own crash backtracer would catch libFuzzer's deadly signals (and
# wait on them); libFuzzer and ASan report crashes themselves.
export SWIFT_BACKTRACE=enable=no
scratch="$here/.build-fuzz"
echo "== building the fuzz executables (release, fuzzer + address sanitizers)"
# The plan is cached per scratch folder and does not see files renamed in the
# main package (a path dependency): planned anew each time (seconds).
rm -f "$scratch/release.yaml"
nice -n 10 swift build --package-path "$here" --scratch-path "$scratch" -c release \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library \
    -Xcc -fsanitize=fuzzer-no-link,address
bin="$(swift build --package-path "$here" --scratch-path "$scratch" -c release --show-bin-path)"
if [ "$seconds" = 0 ]; then
    echo "built: $bin/fuzz-TARGET (run one input: SWIFT_BACKTRACE=enable=no $bin/fuzz-TARGET FILE)"
    exit 0
fi

work="$(mktemp -d /tmp/switchyard-fuzz.XXXXXX)"
results="$here/results"
mkdir -p "$results"
report="$results/latest.md"
{
    echo "# Fuzzing results (deploy/fuzz/run.sh $seconds ${targets[*]})"
    echo
    echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(swift --version 2>/dev/null | head -1), $(nproc) cores, -timeout=5 -rss_limit_mb=2048 -max_len=8192, libFuzzer + ASan, at nice 10 on a machine shared with other work."
    echo
    echo "| target | seconds | runs | exec/s | cov (edges) | ft (features) | seeds | new units | peak RSS MiB | crashes |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
} > "$report"

failed=0
for entry in "${targets[@]}"; do
    target="${entry%%:*}"
    budget="$seconds"
    if [ "$entry" != "$target" ]; then budget="${entry#*:}"; fi
    echo "== $target: $budget s"
    mkdir -p "$work/$target/corpus" "$work/$target/artifacts"
    cp "$here/corpus/$target/"* "$work/$target/corpus/"
    seeds=$(ls "$here/corpus/$target" | wc -l)
    inputs=("$work/$target/corpus")
    if [ -d "$here/regressions/$target" ]; then inputs+=("$here/regressions/$target"); fi
    dict=()
    if [ -f "$here/dictionaries/$target.dict" ]; then dict=(-dict="$here/dictionaries/$target.dict"); fi
    log="$work/$target/fuzz.log"
    start=$(date +%s)
    set +e
    nice -n 10 "$bin/fuzz-$target" -max_total_time="$budget" -timeout=5 -rss_limit_mb=2048 -max_len=8192 \
        -print_final_stats=1 -artifact_prefix="$work/$target/artifacts/" "${dict[@]}" "${inputs[@]}" >"$log" 2>&1
    status=$?
    set -e
    elapsed=$(( $(date +%s) - start ))
    stat() { grep -m1 "^stat::$1:" "$log" | awk '{print $2}'; }
    runs=$(stat number_of_executed_units); runs=${runs:-?}
    speed=$(stat average_exec_per_sec); speed=${speed:-?}
    rss=$(stat peak_rss_mb); rss=${rss:-?}
    last=$(grep -E '^#[0-9]+' "$log" | tail -1)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last"); cov=${cov:-?}
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last"); ft=${ft:-?}
    new=$(( $(ls "$work/$target/corpus" | wc -l) - seeds ))
    crashes="none"
    artifacts=$(ls "$work/$target/artifacts" 2>/dev/null || true)
    if [ "$status" -ne 0 ] || [ -n "$artifacts" ]; then
        failed=1
        crashes=""
        mkdir -p "$here/regressions/$target"
        for artifact in $artifacts; do
            path="$work/$target/artifacts/$artifact"
            minimized="$work/$target/artifacts/min-$artifact"
            case "$artifact" in
                crash-*) nice -n 10 "$bin/fuzz-$target" -minimize_crash=1 -runs=20000 -timeout=5 \
                             -exact_artifact_path="$minimized" "$path" >>"$log" 2>&1 || true ;;
            esac
            [ -f "$minimized" ] || minimized="$path"
            cp "$minimized" "$here/regressions/$target/$artifact"
            crashes="$crashes ${artifact%%-*}: regressions/$target/$artifact"
        done
        [ -n "$crashes" ] || crashes="exit $status (see log)"
        echo "!! $target failed (exit $status); log: $log"
        grep -m5 -E 'ERROR|invariant broken|Fatal error|SUMMARY' "$log" || true
    fi
    echo "   $runs runs in ${elapsed}s ($speed exec/s), cov $cov, ft $ft, $new new units, crashes: $crashes"
    echo "| $target | $elapsed | $runs | $speed | $cov | $ft | $seeds | $new | $rss | $crashes |" >> "$report"
done
echo >> "$report"
echo "Logs and the grown corpora: $work (scratch, not committed)." >> "$report"
echo "== report: $report"
exit "$failed"
