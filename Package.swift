// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "switchyard",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "switchyard", targets: ["switchyard"]),
        .executable(name: "switchyard-demo-app", targets: ["switchyard-demo-app"]),
        // The fuzz entry points, for deploy/fuzz (a separate package built with libFuzzer).
        // With SwitchyardFuzzEntries, the fuzz executables' way into HTTPProxy's
        // `package` parsers; nothing else uses this product.
        .library(name: "SwitchyardFuzzTargets", targets: ["SwitchyardFuzzTargets", "SwitchyardFuzzEntries"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-atomics.git", from: "1.3.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        // Pure decisions: no NIO, no libpq, no YAML.
        .target(
            name: "SwitchyardCore",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // YAML file model -> validated SwitchyardCore configuration, positioned errors.
        .target(
            name: "SwitchyardConfig",
            dependencies: [
                "SwitchyardCore",
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // Structured log lines (JSON / logfmt) written off the event loops; the swift-log handler.
        .target(
            name: "SwitchyardLogging",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The SwiftNIO request path: listener, upstream pools, relay, retries.
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
        // The admin listener: /status, /metrics, /healthz, drain/undrain and the dashboard.
        .target(
            name: "AdminServer",
            dependencies: [
                "SwitchyardCore",
                "SwitchyardLogging",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        // libpq, from Debian's libpq-dev (only LagMonitor imports it).
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        // Polls every database through libpq's non-blocking API; rotation and pin positions.
        .target(
            name: "LagMonitor",
            dependencies: [
                "SwitchyardCore",
                "CLibPQ",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Composition root: logging bootstrap, services, signals, reload, drain.
        .target(
            name: "SwitchyardApp",
            dependencies: [
                "SwitchyardCore",
                "SwitchyardConfig",
                "HTTPProxy",
                "LagMonitor",
                "AdminServer",
                "SwitchyardLogging",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "switchyard",
            dependencies: [
                "SwitchyardApp",
                "LagMonitor",
                "SwitchyardLogging",
                "SwitchyardConfig",
                "SwitchyardCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The demo's PostgreSQL-backed app server (not part of the router).
        .target(
            name: "DemoAppKit",
            dependencies: [
                "CLibPQ",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "switchyard-demo-app",
            dependencies: [
                "DemoAppKit",
                "SwitchyardLogging",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // One pure entry function per input parser, with its invariants (issue #7):
        // replayed over the committed corpora by FuzzCorpusTests, run under
        // libFuzzer by deploy/fuzz.
        .target(
            name: "SwitchyardFuzzTargets",
            dependencies: [
                "SwitchyardCore",
                "SwitchyardConfig",
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // HTTPProxy's parsers driven as the proxy drives them, for the targets
        // above (one copy, used by FuzzCorpusTests and deploy/fuzz alike).
        .target(
            name: "SwitchyardFuzzEntries",
            dependencies: [
                "SwitchyardFuzzTargets",
                "HTTPProxy",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // Test-only helpers: fake app servers, raw HTTP clients.
        .target(
            name: "SwitchyardTestSupport",
            dependencies: [
                "SwitchyardCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "SwitchyardCoreTests", dependencies: ["SwitchyardCore"]),
        .testTarget(name: "SwitchyardLoggingTests", dependencies: ["SwitchyardLogging"]),
        .testTarget(name: "SwitchyardTestSupportTests", dependencies: ["SwitchyardTestSupport"]),
        .testTarget(name: "DeployTests", dependencies: ["SwitchyardTestSupport"]),
        .testTarget(name: "PostgresFixtureTests", dependencies: ["SwitchyardTestSupport", "SwitchyardCore"]),
        .testTarget(
            name: "AdminServerTests",
            dependencies: [
                "AdminServer", "SwitchyardCore", "SwitchyardTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "LagMonitorTests",
            dependencies: [
                "LagMonitor", "SwitchyardApp", "SwitchyardConfig", "SwitchyardCore", "SwitchyardLogging", "SwitchyardTestSupport", "DemoAppKit",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "SwitchyardConfigTests", dependencies: ["SwitchyardConfig", "SwitchyardCore"]),
        // Faults, load and hostile input (issue #7); SWITCHYARD_RELIABILITY=long scales it up (deploy/reliability/run.sh).
        .testTarget(
            name: "ReliabilityTests",
            dependencies: [
                "HTTPProxy", "LagMonitor", "SwitchyardApp", "SwitchyardConfig", "SwitchyardCore", "SwitchyardLogging",
                "SwitchyardTestSupport", "DemoAppKit",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "FuzzCorpusTests",
            dependencies: [
                "SwitchyardFuzzTargets", "SwitchyardFuzzEntries",
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "HTTPProxyTests",
            dependencies: [
                "HTTPProxy", "SwitchyardApp", "SwitchyardConfig", "SwitchyardCore", "SwitchyardTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ]
)
