// swift-tools-version:6.1
// Micro-benchmarks of Switchyard's per-request decision path (ordo-one/benchmark).
// A package of its own so the main package's build and CI never pay for the
// benchmark dependency. Run from the repository root:
//
//   swift package --package-path deploy/bench/micro --scratch-path deploy/bench/micro/.build-micro \
//     benchmark --no-progress
//
// (deploy/bench/run.sh --micro does exactly that.)
//
// The main package exports only executables (no library products), so a
// `.package(path: "../../..")` dependency could not give these benchmarks
// SwitchyardCore or HTTPProxy. Instead Sources/{SwitchyardCore,SwitchyardLogging,HTTPProxy}
// are symlinks to the main package's own source folders: the benchmarks
// compile exactly the code in the working tree, with the same dependencies.
import PackageDescription

let package = Package(
    name: "switchyard-micro",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        // The same requirements as the main Package.swift.
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-atomics.git", from: "1.3.0"),
    ],
    targets: [
        // Symlinked from ../../../Sources: the main package's targets, unchanged.
        .target(
            name: "SwitchyardCore",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")]
        ),
        .target(
            name: "SwitchyardLogging",
            dependencies: [.product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "HTTPProxy",
            dependencies: [
                "SwitchyardCore",
                "SwitchyardLogging",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Atomics", package: "swift-atomics"),
            ]
        ),
        .executableTarget(
            name: "DecisionPath",
            dependencies: [
                "SwitchyardCore",
                "SwitchyardLogging",
                "HTTPProxy",
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/DecisionPath",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
