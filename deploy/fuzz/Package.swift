// swift-tools-version:6.1
// The libFuzzer executables of issue #7, one per fuzz target. Each only
// defines LLVMFuzzerTestOneInput, calling the entry function of
// SwitchyardFuzzTargets (the main package, by path), and a main that runs
// libFuzzer's driver. Built by run.sh with
// -sanitize=fuzzer,address; a plain `swift build` here cannot link them.
import PackageDescription

let targetNames = [
    "config-loader", "pin-token", "cookie-header", "rule-matcher", "forwarded-for", "value-parsers", "header-hygiene",
    "upstream-response", "client-request",
]

let package = Package(
    name: "switchyard-fuzz",
    dependencies: [
        .package(name: "switchyard", path: "../.."),
    ],
    targets: [
        .target(name: "CLibFuzzer", path: "Sources/CLibFuzzer"),
        // What every executable does around its target: abort on a broken invariant, run libFuzzer's driver.
        .target(name: "FuzzDriver", dependencies: ["CLibFuzzer"], path: "Sources/FuzzDriver"),
    ] + targetNames.map { name in
        .executableTarget(
            name: "fuzz-\(name)",
            dependencies: [
                "FuzzDriver",
                .product(name: "SwitchyardFuzzTargets", package: "switchyard"),
            ],
            path: "Sources/fuzz-\(name)"
        )
    }
)
