// swift-tools-version:5.10
// Ember: a deep learning framework for Swift on Linux in the spirit of PyTorch.
import PackageDescription

let package = Package(
    name: "Ember",
    products: [
        .library(name: "Ember", targets: ["Ember"]),
        .library(name: "EmberNN", targets: ["EmberNN"]),
        .library(name: "EmberOptim", targets: ["EmberOptim"]),
        .library(name: "EmberData", targets: ["EmberData"]),
        .library(name: "EmberVision", targets: ["EmberVision"]),
        .library(name: "EmberModels", targets: ["EmberModels"]),
        .library(name: "EmberONNX", targets: ["EmberONNX"]),
        .executable(name: "ember", targets: ["EmberCLI"]),
        .executable(name: "autograd-demo", targets: ["AutogradDemo"]),
        .executable(name: "ember-bench", targets: ["EmberBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        // oneDNN (Debian: libdnnl-dev), used for matrix products on the CPU.
        .systemLibrary(name: "CDNNL", path: "Sources/CDNNL"),
        // zlib (Debian: zlib1g-dev), for gzipped dataset files.
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        // libjpeg-turbo and libpng (Debian: libjpeg-dev, libpng-dev), for decoding images.
        .systemLibrary(name: "CJPEG", path: "Sources/CJPEG"),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG"),
        // Thread-local grad mode, vectorised float32 kernels, and a parallel-for on
        // libgomp's thread pool (the OpenMP runtime oneDNN already uses).
        .target(name: "CEmberRuntime", path: "Sources/CEmberRuntime",
                linkerSettings: [.linkedLibrary("gomp")]),
        .target(name: "Ember", dependencies: ["CDNNL", "CEmberRuntime", "CZlib"], path: "Sources/Ember"),
        .target(name: "EmberNN", dependencies: ["Ember"], path: "Sources/EmberNN"),
        .target(name: "EmberOptim", dependencies: ["Ember"], path: "Sources/EmberOptim"),
        .target(name: "EmberData", dependencies: ["Ember", "CZlib"], path: "Sources/EmberData"),
        // Images: JPEG/PNG decoding, resizing and cropping, ImageNet preprocessing.
        .target(name: "EmberVision", dependencies: ["Ember", "EmberData", "CJPEG", "CPNG"], path: "Sources/EmberVision"),
        // Models, tokenizers and pretrained weights: GPT, LSTM LM, BERT/MiniLM, MobileNetV2, GloVe.
        .target(name: "EmberModels", dependencies: ["Ember", "EmberNN", "EmberData"], path: "Sources/EmberModels"),
        // ONNX export by tracing (ONNX's protobuf schema, generated once by protoc-gen-swift).
        .target(name: "EmberONNX", dependencies: ["Ember", "EmberNN",
                                                  .product(name: "SwiftProtobuf", package: "swift-protobuf")],
                path: "Sources/EmberONNX"),
        .executableTarget(name: "EmberCLI",
                          dependencies: ["Ember", "EmberNN", "EmberOptim", "EmberData", "EmberModels",
                                         "EmberVision", "EmberONNX",
                                         .product(name: "ArgumentParser", package: "swift-argument-parser")],
                          path: "Sources/EmberCLI"),
        .executableTarget(name: "AutogradDemo", dependencies: ["Ember"], path: "Examples/AutogradDemo"),
        .executableTarget(name: "EmberBench", dependencies: ["Ember", "EmberNN", "EmberOptim", "EmberData", "EmberModels", "EmberVision"],
                          path: "Benchmarks/EmberBench"),
        // What several test targets share: finding and running the reference Python.
        .target(name: "EmberTestSupport", path: "Tests/EmberTestSupport"),
        .testTarget(name: "EmberTests", dependencies: ["Ember", "EmberData", "EmberTestSupport"], path: "Tests/EmberTests",
                    resources: [.copy("Fixtures")],
                    // Compiles the IDX and CSV parsers into the fuzz tests (they live in EmberData).
                    swiftSettings: [.define("EMBER_FUZZ_DATA")]),
        .testTarget(name: "EmberNNTests", dependencies: ["Ember", "EmberNN"], path: "Tests/EmberNNTests",
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "EmberOptimTests", dependencies: ["Ember", "EmberNN", "EmberOptim"], path: "Tests/EmberOptimTests",
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "EmberModelsTests", dependencies: ["Ember", "EmberNN", "EmberData", "EmberOptim", "EmberModels", "EmberVision"],
                    path: "Tests/EmberModelsTests", resources: [.copy("Fixtures")]),
        .testTarget(name: "EmberVisionTests", dependencies: ["Ember", "EmberVision"], path: "Tests/EmberVisionTests",
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "EmberONNXTests", dependencies: ["Ember", "EmberNN", "EmberONNX", "EmberTestSupport"], path: "Tests/EmberONNXTests"),
        .testTarget(name: "EmberDataTests", dependencies: ["Ember", "EmberData", "EmberTestSupport"], path: "Tests/EmberDataTests",
                    resources: [.copy("Fixtures")]),
        // Runs the built `ember` tool as a user would (the dependency makes sure it is built).
        .testTarget(name: "EmberCLITests", dependencies: ["EmberCLI", "Ember", "EmberNN", "EmberOptim", "EmberData", "EmberModels",
                                                           "EmberVision", "EmberONNX", "EmberTestSupport"],
                    path: "Tests/EmberCLITests"),
    ]
)
