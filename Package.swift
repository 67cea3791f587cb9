// swift-tools-version:6.0
// LongMix: builds long-context (32K-token) training data — read, tokenize, filter,
// decontaminate, mix, pack — after the LLaMA-2-7B-32K recipe. One library target per
// pipeline stage (see README, "Architecture"); the `longmix` executable is a thin CLI on top.
import PackageDescription

let package = Package(
    name: "LongMix",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "longmix", targets: ["longmix"]),
        .library(name: "LongMixCore", targets: ["LongMixCore"]),
        .library(name: "ShardIO", targets: ["ShardIO"]),
        .library(name: "Tokenization", targets: ["Tokenization"]),
        .library(name: "Decontamination", targets: ["Decontamination"]),
        .library(name: "Mixing", targets: ["Mixing"]),
        .library(name: "Packing", targets: ["Packing"]),
        .library(name: "Pipeline", targets: ["Pipeline"]),
        .library(name: "Tasks", targets: ["Tasks"]),
        .library(name: "Evaluation", targets: ["Evaluation"]),
        .library(name: "Model", targets: ["Model"]),
        .library(name: "LongMixCLI", targets: ["LongMixCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    ],
    targets: [
        // System libraries, found through pkg-config (apt: libzstd-dev, zlib1g-dev).
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),

        // A memory prefetch hint for the tokenizer's hot loop (one static inline C function).
        .target(name: "CPrefetch"),
        // The byte masks of a 64-byte block for the JSON string scan (one static inline C function).
        .target(name: "CStringMasks"),

        .target(name: "LongMixCore"),
        .target(name: "ShardIO", dependencies: ["LongMixCore", "CZstd", "CZlib", "CStringMasks"]),
        .target(name: "Tokenization", dependencies: ["LongMixCore", "ShardIO", "CPrefetch"]),
        .target(name: "Decontamination", dependencies: [
            "LongMixCore", "ShardIO", .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        .target(name: "Evaluation", dependencies: ["LongMixCore", "ShardIO", "Tokenization", "Model", "Packing"]),
        .target(name: "Tasks", dependencies: ["LongMixCore", "ShardIO", "Tokenization"]),
        .target(name: "Mixing", dependencies: ["LongMixCore", "ShardIO", "Yams"]),
        .target(name: "Packing", dependencies: ["LongMixCore", "ShardIO", "Tokenization"]),
        .target(name: "Pipeline", dependencies: [
            "LongMixCore", "ShardIO", "Tokenization", "Decontamination", "Mixing", "Packing",
        ]),
        // The reference LLaMA trainer: float32 forward/backward over flat buffers, sgemm from OpenBLAS, opened at run time
        // (dlopen) so that commands which run no model do not start its thread pool.
        .target(name: "Model", dependencies: ["LongMixCore", "ShardIO", "Packing"]),
        // The command tree (parsing and printing only), a library so tests can parse README lines.
        .target(name: "LongMixCLI", dependencies: [
            "LongMixCore", "ShardIO", "Tokenization", "Decontamination", "Mixing", "Packing", "Pipeline",
            "Tasks", "Evaluation", "Model",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "longmix", dependencies: ["LongMixCLI", "ShardIO"]),

        // Shared test helpers: fixture paths, ../shared lookup, the Python oracle runner.
        .target(name: "TestSupport", dependencies: ["LongMixCore"], path: "Tests/TestSupport"),
        .testTarget(name: "LongMixCoreTests", dependencies: ["LongMixCore", "TestSupport"]),
        .testTarget(name: "ShardIOTests", dependencies: ["ShardIO", "CZstd", "TestSupport"]),
        .testTarget(name: "TokenizationTests", dependencies: ["Tokenization", "TestSupport"]),
        .testTarget(name: "DecontaminationTests", dependencies: ["Decontamination", "TestSupport"]),
        .testTarget(name: "EvaluationTests", dependencies: ["Evaluation", "Model", "Packing", "ShardIO", "Tokenization", "TestSupport"]),
        .testTarget(name: "TasksTests", dependencies: ["Tasks", "TestSupport"]),
        .testTarget(name: "MixingTests", dependencies: ["Mixing", "TestSupport"]),
        .testTarget(name: "PackingTests", dependencies: ["Packing", "ShardIO", "Tokenization", "TestSupport"]),
        .testTarget(name: "PipelineTests", dependencies: ["Pipeline", "TestSupport"]),
        .testTarget(name: "ModelTests", dependencies: ["Model", "Packing", "Mixing", "Pipeline", "ShardIO", "TestSupport"]),
        .testTarget(name: "LongMixCLITests", dependencies: [
            "LongMixCLI", "LongMixCore", "ShardIO", "Tokenization", "Mixing", "TestSupport",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
    ]
)
