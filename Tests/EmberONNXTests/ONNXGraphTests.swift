// The exported graph itself, read back with the generated protobuf types (no Python):
// node types, initializer names and values, the dynamic batch dimension, errors.
import Ember
import EmberNN
@testable import EmberONNX
import Foundation
import XCTest

final class ONNXGraphTests: XCTestCase {
    override func setUp() {
        super.setUp()
        manualSeed(5)
    }

    private func graph(_ model: Module, _ example: Tensor, dynamicBatch: Bool = true, opset: Int = 17) throws -> Onnx_ModelProto {
        let data = try ONNX.serializedModel(model, exampleInput: example, dynamicBatch: dynamicBatch, opset: opset)
        return try Onnx_ModelProto(serializedBytes: data)
    }

    private func graph(_ function: (Tensor) -> Tensor, _ example: Tensor, named: [(String, Tensor)] = [],
                       dynamicBatch: Bool = true) throws -> Onnx_ModelProto {
        let data = try ONNX.serializedModel(function, exampleInput: example, namedTensors: named, dynamicBatch: dynamicBatch)
        return try Onnx_ModelProto(serializedBytes: data)
    }

    private func floats(_ proto: Onnx_TensorProto) -> [Float] {
        proto.rawData.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }

    private func int64s(_ proto: Onnx_TensorProto) -> [Int64] {
        proto.rawData.withUnsafeBytes { Array($0.bindMemory(to: Int64.self)) }
    }

    func testMLPBecomesReshapeAndGemmNodesWithPyTorchParameterNames() throws {
        let model = Sequential(Flatten(), Linear(16, 8), ReLU(), Linear(8, 3))
        let proto = try graph(model, Tensor.randn([2, 1, 4, 4]))
        XCTAssertEqual(proto.graph.node.map(\.opType), ["Reshape", "Gemm", "Relu", "Gemm"])
        let names = proto.graph.initializer.map(\.name)
        for name in ["1.weight", "1.bias", "3.weight", "3.bias"] { XCTAssertTrue(names.contains(name), "\(names)") }
        let weight = try XCTUnwrap(proto.graph.initializer.first { $0.name == "1.weight" })
        XCTAssertEqual(weight.dims, [8, 16])
        XCTAssertEqual(weight.dataType, Int32(Onnx_TensorProto.DataType.float.rawValue))
        XCTAssertEqual(floats(weight), (model.children()[1] as! Linear).weight.asArray(Float.self))
        XCTAssertEqual(proto.graph.node[1].input, ["Reshape_1_output", "1.weight", "1.bias"])
        XCTAssertEqual(proto.graph.node[3].output, ["output"])
    }

    func testModelHeaderNamesOpsetIRVersionAndProducer() throws {
        let proto = try graph(Sequential(Linear(2, 2)), Tensor.randn([1, 2]))
        XCTAssertEqual(proto.opsetImport.map(\.version), [17])
        XCTAssertEqual(proto.opsetImport.first?.domain, "")
        XCTAssertEqual(proto.irVersion, 8)
        XCTAssertEqual(proto.producerName, "Ember")
        let newer = try graph(Sequential(Linear(2, 2)), Tensor.randn([1, 2]), opset: 20)
        XCTAssertEqual(newer.opsetImport.map(\.version), [20])
        XCTAssertEqual(newer.irVersion, 9)
    }

    func testDynamicBatchMakesDimensionZeroSymbolicAndReshapeBatchFree() throws {
        let proto = try graph(Sequential(Flatten(), Linear(12, 2)), Tensor.randn([3, 3, 4]))
        let input = proto.graph.input[0].type.tensorType.shape.dim
        XCTAssertEqual(input.map(\.dimParam), ["batch", "", ""])
        XCTAssertEqual(input.map(\.dimValue), [0, 3, 4])
        XCTAssertEqual(proto.graph.output[0].type.tensorType.shape.dim.map(\.dimParam), ["batch", ""])
        // The Reshape target leaves the batch to the runtime: [-1, 12], not [3, 12].
        let reshape = try XCTUnwrap(proto.graph.node.first { $0.opType == "Reshape" })
        let target = try XCTUnwrap(proto.graph.initializer.first { $0.name == reshape.input[1] })
        XCTAssertEqual(int64s(target), [-1, 12])
    }

    func testStaticBatchKeepsTheExampleShape() throws {
        let proto = try graph(Sequential(Flatten(), Linear(12, 2)), Tensor.randn([3, 3, 4]), dynamicBatch: false)
        XCTAssertEqual(proto.graph.input[0].type.tensorType.shape.dim.map(\.dimValue), [3, 3, 4])
        XCTAssertTrue(proto.graph.input[0].type.tensorType.shape.dim.allSatisfy { $0.dimParam.isEmpty })
        let reshape = try XCTUnwrap(proto.graph.node.first { $0.opType == "Reshape" })
        XCTAssertEqual(int64s(try XCTUnwrap(proto.graph.initializer.first { $0.name == reshape.input[1] })), [3, 12])
    }

    func testConvolutionAttributesFollowTheLayer() throws {
        let model = Sequential(Conv2d(2, 4, kernelSize: 3, stride: 2, padding: 1, dilation: 1, groups: 2), MaxPool2d(kernelSize: 2))
        let proto = try graph(model, Tensor.randn([1, 2, 8, 8]))
        XCTAssertEqual(proto.graph.node.map(\.opType), ["Conv", "MaxPool"])
        let conv = proto.graph.node[0]
        func ints(_ node: Onnx_NodeProto, _ name: String) -> [Int64]? { node.attribute.first { $0.name == name }?.ints }
        XCTAssertEqual(ints(conv, "strides"), [2, 2])
        XCTAssertEqual(ints(conv, "pads"), [1, 1, 1, 1])
        XCTAssertEqual(ints(conv, "kernel_shape"), [3, 3])
        XCTAssertEqual(conv.attribute.first { $0.name == "group" }?.i, 2)
        XCTAssertEqual(conv.input, ["input", "0.weight", "0.bias"])
        XCTAssertEqual(ints(proto.graph.node[1], "kernel_shape"), [2, 2])
    }

    func testBatchNormBuffersAreNamedInitializers() throws {
        let model = Sequential(Conv2d(1, 3, kernelSize: 1), BatchNorm2d(3))
        let proto = try graph(model, Tensor.randn([2, 1, 4, 4]))
        let names = Set(proto.graph.initializer.map(\.name))
        XCTAssertTrue(names.isSuperset(of: ["1.running_mean", "1.running_var", "1.weight", "1.bias"]), "\(names)")
        XCTAssertFalse(names.contains("1.num_batches_tracked"))
        XCTAssertEqual(proto.graph.node.map(\.opType), ["Conv", "BatchNormalization"])
        XCTAssertEqual(Array(proto.graph.node[1].input.dropFirst()), ["1.weight", "1.bias", "1.running_mean", "1.running_var"])
        let running = try XCTUnwrap(proto.graph.initializer.first { $0.name == "1.running_var" })
        XCTAssertEqual(running.dims, [3])
        // Without affine parameters the scale and shift are constants of ones and zeros.
        let plain = try graph(Sequential(BatchNorm1d(4, affine: false)), Tensor.randn([2, 4]))
        XCTAssertEqual(plain.graph.node.map(\.opType), ["BatchNormalization"])
        XCTAssertEqual(Array(plain.graph.node[0].input.suffix(2)), ["0.running_mean", "0.running_var"])
    }

    func testEmbeddingIsGatherOnTheInt64Input() throws {
        let model = Sequential(Embedding(10, 4))
        let proto = try graph(model, Tensor([1, 2, 3, 4, 5, 6] as [Int64], shape: [2, 3]))
        XCTAssertEqual(proto.graph.input[0].type.tensorType.elemType, Int32(Onnx_TensorProto.DataType.int64.rawValue))
        let gather = try XCTUnwrap(proto.graph.node.first { $0.opType == "Gather" })
        XCTAssertEqual(gather.input.first, "0.weight")
        XCTAssertEqual(proto.graph.output[0].type.tensorType.shape.dim.map(\.dimParam), ["batch", "", ""])
    }

    func testExportRestoresTrainingModeAndLeavesRunningStatisticsAlone() throws {
        let norm = BatchNorm1d(3)
        let model = Sequential(Linear(2, 3), norm)
        let mean = norm.namedBuffers().first { $0.0 == "running_mean" }!.1.asArray(Float.self)
        _ = try graph(model, Tensor.randn([4, 2]))
        XCTAssertTrue(model.isTraining)
        XCTAssertTrue(norm.isTraining)
        XCTAssertEqual(norm.namedBuffers().first { $0.0 == "running_mean" }!.1.asArray(Float.self), mean)
        XCTAssertTrue(model.parameters().allSatisfy { $0.requiresGrad })
        XCTAssertFalse(norm.namedBuffers().contains { $0.1.requiresGrad })
    }

    func testUnsupportedOpThrowsAnErrorNamingIt() throws {
        XCTAssertThrowsError(try graph({ $0.flip([1]) }, Tensor.randn([2, 3]))) { error in
            guard case .unsupportedOperation(let op, _, _)? = error as? ONNXExportError else {
                return XCTFail("unexpected error \(error)")
            }
            XCTAssertEqual(op, "FlipBackward0")
            XCTAssertTrue("\(error)".contains("FlipBackward0"), "\(error)")
        }
    }

    func testUnsupportedOpErrorNamesTheModuleOwningItsWeights() throws {
        final class Odd: Module {
            let scale = Tensor.ones([3])
            override func forward(_ input: Tensor) -> Tensor { input * scale.cumprod(dim: 0) }
        }
        let model = Sequential(Linear(3, 3), Odd())
        XCTAssertThrowsError(try graph(model, Tensor.randn([2, 3]))) { error in
            XCTAssertEqual(error as? ONNXExportError,
                           .unsupportedOperation(op: "CumprodBackward0", module: "1", detail: "no ONNX lowering for this op yet"))
            XCTAssertTrue("\(error)".contains("in module '1'"), "\(error)")
        }
    }

    func testValueComputedFromTheInputOutsideAutogradIsRejected() throws {
        // The shift is computed under noGrad from the input: frozen into the graph, it would be wrong.
        let function: (Tensor) -> Tensor = { x in x + noGrad { x.mean() } }
        XCTAssertThrowsError(try graph(function, Tensor.randn([2, 3]))) { error in
            guard case .inputDependentConstant(let op, _, _)? = error as? ONNXExportError else {
                return XCTFail("unexpected error \(error)")
            }
            XCTAssertEqual(op, "AddBackward0")
        }
    }

    func testBatchSizedFillIsBuiltFromTheInputsBatchSize() throws {
        // An RNN-style zero state [batch, 3]: Expand(0, Concat(Slice(Shape(input)), [3])).
        let proto = try graph({ x in x + Tensor.zeros([x.shape[0], 3]) }, Tensor.randn([2, 3]))
        XCTAssertEqual(proto.graph.node.map(\.opType), ["Shape", "Slice", "Concat", "Expand", "Add"])
        XCTAssertEqual(proto.graph.node[0].input, ["input"])
        // A filled tensor whose values vary is still refused.
        XCTAssertThrowsError(try graph({ x in x + Tensor.arange(0, Double(x.shape[0])).unsqueeze(1) }, Tensor.randn([2, 3])))
    }

    func testInPlaceOpsOnIntermediatesAreFollowed() throws {
        let proto = try graph({ x in
            var y = x * 2
            y += 1
            return y * 3
        }, Tensor.randn([2, 2]), dynamicBatch: false)
        XCTAssertEqual(proto.graph.node.map(\.opType), ["Mul", "Add", "Mul"])
        XCTAssertEqual(proto.graph.node[1].input.first, proto.graph.node[0].output.first)
        XCTAssertEqual(proto.graph.node[2].input.first, proto.graph.node[1].output.first)
    }

    func testLayerNormBecomesOneLayerNormalizationNode() throws {
        let proto = try graph(Sequential(Linear(4, 6), LayerNorm([6], eps: 1e-3)), Tensor.randn([2, 4]))
        XCTAssertEqual(proto.graph.node.map(\.opType), ["Gemm", "LayerNormalization"])
        let norm = proto.graph.node[1]
        XCTAssertEqual(Array(norm.input.dropFirst()), ["1.weight", "1.bias"])
        XCTAssertEqual(norm.attribute.first { $0.name == "axis" }?.i, 1)
        XCTAssertEqual(Double(try XCTUnwrap(norm.attribute.first { $0.name == "epsilon" }?.f)), 1e-3, accuracy: 1e-9)
        // Without affine parameters the scale is a constant of ones and there is no bias.
        let plain = try graph(Sequential(LayerNorm([2, 3], elementwiseAffine: false)), Tensor.randn([2, 4, 2, 3]))
        XCTAssertEqual(plain.graph.node.map(\.opType), ["LayerNormalization"])
        XCTAssertEqual(plain.graph.node[0].input.count, 2)
        XCTAssertEqual(plain.graph.node[0].attribute.first { $0.name == "axis" }?.i, 2)
    }

    func testLayerNormArithmeticWhoseIntermediateIsReusedIsNotFused() throws {
        let proto = try graph({ x in
            let centered = x - x.mean(dims: [1], keepDim: true)
            let variance = (centered * centered).mean(dims: [1], keepDim: true)
            return centered * rsqrt(variance + 1e-5) + centered
        }, Tensor.randn([2, 5]))
        XCTAssertFalse(proto.graph.node.map(\.opType).contains("LayerNormalization"))
        XCTAssertEqual(proto.graph.node.last?.opType, "Add")
    }

    func testInvalidArgumentsAreRejected() throws {
        let model = Sequential(Linear(2, 2))
        let x = Tensor.randn([1, 2])
        for (inputs, outputs, opset) in [(["a", "b"], ["y"], 17), (["x"], [], 17), (["x"], ["x"], 17), (["x"], ["y"], 16)] {
            XCTAssertThrowsError(try ONNX.serializedModel(model, exampleInput: x, inputNames: inputs, outputNames: outputs, opset: opset)) { error in
                guard case .invalidArgument? = error as? ONNXExportError else { return XCTFail("unexpected error \(error)") }
            }
        }
    }

    func testExportWritesAFileThatParsesBack() throws {
        let dir = try temporaryFolder()
        let url = dir.appendingPathComponent("tiny.onnx")
        try ONNX.export(Sequential(Linear(3, 2), Sigmoid()), exampleInput: Tensor.randn([1, 3]), to: url,
                        inputNames: ["features"], outputNames: ["probability"])
        let proto = try Onnx_ModelProto(serializedBytes: try Data(contentsOf: url))
        XCTAssertEqual(proto.graph.input.map(\.name), ["features"])
        XCTAssertEqual(proto.graph.output.map(\.name), ["probability"])
        XCTAssertEqual(proto.graph.node.map(\.opType), ["Gemm", "Sigmoid"])
        XCTAssertThrowsError(try ONNX.export(Sequential(Linear(3, 2)), exampleInput: Tensor.randn([1, 3]),
                                             to: dir.appendingPathComponent("missing/dir/x.onnx"))) { error in
            guard case .writeFailed? = error as? ONNXExportError else { return XCTFail("unexpected error \(error)") }
        }
    }
}
