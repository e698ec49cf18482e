// swift-tools-version:5.10
// Ember: a deep learning framework for Swift on Linux in the spirit of PyTorch.
import PackageDescription

let package = Package(
    name: "Ember",
    products: [
        .library(name: "Ember", targets: ["Ember"]),
        .executable(name: "autograd-demo", targets: ["AutogradDemo"]),
        .executable(name: "ember-bench", targets: ["EmberBench"]),
    ],
    targets: [
        // oneDNN (Debian: libdnnl-dev), used for matrix products on the CPU.
        .systemLibrary(name: "CDNNL", path: "Sources/CDNNL"),
        // Thread-local grad mode, vectorised float32 kernels, and a parallel-for on
        // libgomp's thread pool (the OpenMP runtime oneDNN already uses).
        .target(name: "CEmberRuntime", path: "Sources/CEmberRuntime",
                linkerSettings: [.linkedLibrary("gomp")]),
        .target(name: "Ember", dependencies: ["CDNNL", "CEmberRuntime"], path: "Sources/Ember"),
        .executableTarget(name: "AutogradDemo", dependencies: ["Ember"], path: "Examples/AutogradDemo"),
        .executableTarget(name: "EmberBench", dependencies: ["Ember"], path: "Benchmarks/EmberBench"),
        .testTarget(name: "EmberTests", dependencies: ["Ember"], path: "Tests/EmberTests",
                    resources: [.copy("Fixtures")]),
    ]
)
