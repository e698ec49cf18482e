// Ember tensors and dtypes as ONNX TensorProto values and element types.
import Ember
import Foundation

extension DType {
    /// The ONNX `TensorProto.DataType` code of this dtype.
    var onnxElementType: Onnx_TensorProto.DataType {
        switch self {
        case .float32: return .float
        case .float64: return .double
        case .float16: return .float16
        case .bfloat16: return .bfloat16
        case .int64: return .int64
        case .int32: return .int32
        case .uint8: return .uint8
        case .bool: return .bool
        }
    }
}

extension Onnx_TensorProto {
    /// An initializer holding `tensor`'s values (row-major, little-endian raw data).
    init(name: String, tensor: Tensor) {
        self.init()
        self.name = name
        dims = tensor.shape.map(Int64.init)
        dataType = Int32(tensor.dtype.onnxElementType.rawValue)
        let dense = noGrad { tensor.to(.cpu).contiguous() }
        let itemSize = dense.dtype.itemSize
        let start = dense.storage.pointer + dense.offset * itemSize
        rawData = Data(bytes: start, count: dense.count * itemSize)
    }

    /// A 1-D int64 initializer (shapes, axes, slice bounds).
    init(name: String, int64s values: [Int]) {
        self.init(name: name, tensor: Tensor(values.map(Int64.init), shape: [values.count]))
    }
}

extension Onnx_ValueInfoProto {
    /// A graph input or output: `dtype` elements, one entry per dimension, each a fixed
    /// size or a symbolic name.
    init(name: String, dtype: DType, dimensions: [GraphDimension]) {
        self.init()
        self.name = name
        var tensorType = Onnx_TypeProto.Tensor()
        tensorType.elemType = Int32(dtype.onnxElementType.rawValue)
        var shape = Onnx_TensorShapeProto()
        shape.dim = dimensions.map { dimension in
            var proto = Onnx_TensorShapeProto.Dimension()
            switch dimension {
            case .fixed(let size): proto.dimValue = Int64(size)
            case .symbolic(let name): proto.dimParam = name
            }
            return proto
        }
        tensorType.shape = shape
        type.tensorType = tensorType
    }
}

/// One dimension of a graph input or output.
enum GraphDimension: Equatable {
    /// A size known when exporting.
    case fixed(Int)
    /// A size chosen at run time (`dim_param`), e.g. `"batch"`.
    case symbolic(String)
}

extension Onnx_AttributeProto {
    /// An integer attribute.
    static func int(_ name: String, _ value: Int) -> Onnx_AttributeProto {
        var attribute = Onnx_AttributeProto()
        attribute.name = name
        attribute.type = .int
        attribute.i = Int64(value)
        return attribute
    }

    /// A list-of-integers attribute.
    static func ints(_ name: String, _ values: [Int]) -> Onnx_AttributeProto {
        var attribute = Onnx_AttributeProto()
        attribute.name = name
        attribute.type = .ints
        attribute.ints = values.map(Int64.init)
        return attribute
    }

    /// A float attribute.
    static func float(_ name: String, _ value: Double) -> Onnx_AttributeProto {
        var attribute = Onnx_AttributeProto()
        attribute.name = name
        attribute.type = .float
        attribute.f = Float(value)
        return attribute
    }

    /// A string attribute.
    static func string(_ name: String, _ value: String) -> Onnx_AttributeProto {
        var attribute = Onnx_AttributeProto()
        attribute.name = name
        attribute.type = .string
        attribute.s = Data(value.utf8)
        return attribute
    }
}
