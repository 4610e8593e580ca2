#!/usr/bin/env bash
# The release build, with the flags the README's performance section measures
# ("Build flags"): the Swift runtime linked in, link-time optimisation across
# every module (SwiftNIO's included), no run-time exclusivity checks (the
# debug build the tests use keeps them), and generic functions inlined into
# generic callers (the SIL optimiser's -sil-inline-generics, the option the
# Swift standard library itself is built with).
#
#   deploy/build-release.sh                        every product of this package
#   deploy/build-release.sh --product switchyard   one product
#   deploy/build-release.sh --package-path DIR     another package, built the same way
#
# The binaries land in .build/release/ (of the package built).
#
# Why -sil-inline-generics: SwiftNIO's socket channel is a generic class
# (BaseSocketChannel<Socket>), and by default the optimiser does not inline a
# generic function into a generic caller. Every isOpen / read0 / flush0 then
# calls the getter of its lifecycle state, which copies the struct (two
# retains, two releases) to read one field: ~90 atomic operations per proxied
# small GET. With the option they are gone (deploy/bench/LOG.md, eleventh
# session).
#
# Swift 6.3.1 crashes in IRGen on one closure of SwiftNIO's HappyEyeballs.swift
# (NIOPosix, a connect-by-hostname path Switchyard does not take) when the
# optimiser inlines a partially specialised generic into it. The two
# -sil-disable-pass options turn the inliner off for that one function only.
# Its mangled name is SwiftNIO's (2.101.x); if another SwiftNIO or compiler
# version crashes elsewhere, the build is retried without the option, and
# says so.
set -euo pipefail
base=(swift build -c release --static-swift-stdlib --experimental-lto-mode=full
  -Xswiftc -enforce-exclusivity=unchecked)
inline_generics=(
  -Xswiftc -Xllvm -Xswiftc -sil-inline-generics=true
  -Xswiftc -Xllvm -Xswiftc -sil-disable-pass=inline
  -Xswiftc -Xllvm -Xswiftc '-sil-disable-pass-only-function=$s8NIOPosix28HappyEyeballsConnectorRunner33_DBF766BF34E81F15B4C3454BEC800C8ELLC15connectToTargetyy7NIOCore13SocketAddressOFyAF7Channel_p_xtcfU_yycfU0_'
)
[ "${SWITCHYARD_INLINE_GENERICS:-1}" = 0 ] && inline_generics=()

# The flagged build's stdout and stderr go where they always went (demo.sh
# keeps stderr and drops stdout) and are kept to look for the crash.
out=$(mktemp)
err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
set +e
{ "${base[@]}" "${inline_generics[@]}" "$@" 2>&1 1>&3 3>&- | tee "$err" >&2 3>&-; exit "${PIPESTATUS[0]}"; } 3>&1 | tee "$out"
status=${PIPESTATUS[0]}
set -e
if [ "$status" != 0 ] && [ ${#inline_generics[@]} -gt 0 ] && cat "$out" "$err" | grep -q 'compile command failed due to signal'; then
  echo "build-release.sh: the compiler crashed with -sil-inline-generics; building again without it (SWITCHYARD_INLINE_GENERICS=0): expect ~90 more atomic operations per request" >&2
  "${base[@]}" "$@"
  exit
fi
exit "$status"
