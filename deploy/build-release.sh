#!/usr/bin/env bash
# The release build, with the flags the README's performance section measures
# ("Build flags"): the Swift runtime linked in, link-time optimisation across
# every module (SwiftNIO's included), and no run-time exclusivity checks (the
# debug build the tests use keeps them).
#
#   deploy/build-release.sh                        every product of this package
#   deploy/build-release.sh --product switchyard   one product
#   deploy/build-release.sh --package-path DIR     another package, built the same way
#
# The binaries land in .build/release/ (of the package built).
set -euo pipefail
exec swift build -c release --static-swift-stdlib --experimental-lto-mode=full \
  -Xswiftc -enforce-exclusivity=unchecked "$@"
