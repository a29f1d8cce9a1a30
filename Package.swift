// swift-tools-version:6.2
import PackageDescription

// Tandem builds with the Swift toolchain alone: no package dependencies.
let strictness: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .treatAllWarnings(as: .error),
]

let package = Package(
    name: "Tandem",
    products: [
        .executable(name: "tandem", targets: ["tandem"]),
        .executable(name: "tandem-bench", targets: ["tandem-bench"]),
        .library(name: "EventLog", targets: ["EventLog"]),
        .library(name: "Mentoring", targets: ["Mentoring"]),
        .library(name: "Projections", targets: ["Projections"]),
        .library(name: "TandemCLI", targets: ["TandemCLI"]),
    ],
    targets: [
        // The SHA-NI compression function, in C: one function compiled for the SHA extensions
        // with `__attribute__((target))`, so no target needs unsafe flags and the libraries can
        // be used from another package. EventLog calls it only after checking the CPU.
        .target(name: "EventLogSHAExtensions", path: "EventLog/SHAExtensions"),
        .target(
            name: "EventLog",
            dependencies: ["EventLogSHAExtensions"],
            path: "EventLog",
            exclude: ["SHAExtensions", "FORMAT.md"],
            swiftSettings: strictness
        ),
        .target(name: "Mentoring", dependencies: ["EventLog"], swiftSettings: strictness),
        .target(
            name: "Projections",
            dependencies: ["Mentoring", "EventLog", "EventLogSHAExtensions"],
            path: "Projections",
            swiftSettings: strictness
        ),
        .target(
            name: "TandemCLI",
            dependencies: ["Projections", "Mentoring", "EventLog"],
            swiftSettings: strictness
        ),
        // The Swift runtime linked in statically: the process starts in about 2 ms instead
        // of 3 (no shared Swift libraries to load and bind), which is most of a CLI append.
        .executableTarget(
            name: "tandem",
            dependencies: ["TandemCLI"],
            swiftSettings: strictness,
            linkerSettings: [.unsafeFlags(["-static-stdlib"], .when(platforms: [.linux]))]
        ),
        .executableTarget(
            name: "tandem-bench",
            dependencies: ["TandemCLI", "Projections", "Mentoring", "EventLog"],
            swiftSettings: strictness
        ),
        // A small process the test suite starts, kills and races against the file log.
        .executableTarget(name: "tandem-probe", dependencies: ["EventLog"], swiftSettings: strictness),
        // Helpers shared by the test targets: temporary directories, real processes.
        .target(name: "TestSupport", path: "Tests/TestSupport", swiftSettings: strictness),
        // Foundation's reading of a log line: the reference the replay decoder is tested against.
        .target(
            name: "EventOracle", dependencies: ["Mentoring", "EventLog"], path: "Tests/EventOracle",
            swiftSettings: strictness),
        .testTarget(
            name: "EventLogTests",
            dependencies: ["EventLog", "TestSupport", "tandem-probe"],
            swiftSettings: strictness
        ),
        .testTarget(
            name: "MentoringTests", dependencies: ["Mentoring", "EventLog", "TestSupport", "EventOracle"],
            swiftSettings: strictness),
        .testTarget(
            name: "ProjectionsTests",
            dependencies: ["Projections", "Mentoring", "EventLog", "TestSupport"],
            swiftSettings: strictness
        ),
        // Runs the `tandem` binary that `swift test` builds with every other product; it does
        // not link the executable in (its static runtime would be linked into the tests too).
        .testTarget(
            name: "TandemCLITests",
            dependencies: ["TandemCLI", "Projections", "Mentoring", "EventLog", "TestSupport", "EventOracle"],
            swiftSettings: strictness
        ),
    ]
)
