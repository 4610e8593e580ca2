// swift-tools-version:6.1
// The NIO floor for deploy/bench: a byte relay with nothing of Switchyard in it
// (see floor.sh). Its own package, so that the router's build never compiles it.
import PackageDescription

let package = Package(
    name: "nio-relay",
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2")
    ],
    targets: [
        .executableTarget(
            name: "nio-relay",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        )
    ]
)
