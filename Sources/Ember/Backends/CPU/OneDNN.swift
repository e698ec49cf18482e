// oneDNN's CPU engine and stream, and a created primitive with the layouts of its
// arguments: what the convolution and matmul primitives share.
import CDNNL
import Foundation

/// oneDNN's CPU engine and stream, shared by all primitives (calls are serialised).
final class DNNLRuntime {
    static let shared = DNNLRuntime()
    let engine: dnnl_engine_t
    let stream: dnnl_stream_t
    /// Serialises primitive creation and execution (one stream).
    let lock = NSLock()

    private init() {
        var engine: dnnl_engine_t?
        precondition(dnnl_engine_create(&engine, dnnl_cpu, 0) == dnnl_success, "oneDNN: could not create the CPU engine")
        var stream: dnnl_stream_t?
        precondition(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags.rawValue) == dnnl_success, "oneDNN: could not create a stream")
        self.engine = engine!
        self.stream = stream!
    }

    /// A float32 memory descriptor with the given layout tag (`dnnl_format_tag_any`
    /// lets a primitive choose).
    static func desc(_ dims: [Int], tag: dnnl_format_tag_t) -> dnnl_memory_desc_t {
        var md = dnnl_memory_desc_t()
        let d = dims.map { Int64($0) }
        let status = dnnl_memory_desc_init_by_tag(&md, Int32(d.count), d, dnnl_f32, tag)
        precondition(status == dnnl_success, "oneDNN: bad memory descriptor for dims \(dims) (status \(status.rawValue))")
        return md
    }

    /// Wraps `pointer` as a oneDNN memory object (destroy it after use).
    func memory(_ md: dnnl_memory_desc_t, _ pointer: UnsafeMutableRawPointer) -> dnnl_memory_t {
        var md = md
        var memory: dnnl_memory_t?
        let status = dnnl_memory_create(&memory, &md, engine, pointer)
        precondition(status == dnnl_success, "oneDNN: could not wrap a buffer (status \(status.rawValue))")
        return memory!
    }
}

/// One argument of a oneDNN primitive: the plain (row-major) layout Ember's tensors use
/// and, when the primitive prefers a blocked layout, that layout and the reorder into
/// it (inputs) or out of it (outputs).
struct DNNLArgument {
    let kind: Int32
    let plain: dnnl_memory_desc_t
    let isOutput: Bool
    var blocked: dnnl_memory_desc_t?
    var blockedBytes = 0
    var reorder: dnnl_primitive_t?
}

/// A created oneDNN primitive with its arguments' layouts and reorders.
final class DNNLPrimitive {
    let primitive: dnnl_primitive_t
    let arguments: [DNNLArgument]
    /// oneDNN's name of the chosen implementation (for profiling).
    let implementation: String

    init(primitive: dnnl_primitive_t, arguments: [DNNLArgument], implementation: String) {
        self.primitive = primitive
        self.arguments = arguments
        self.implementation = implementation
    }

    deinit {
        dnnl_primitive_destroy(primitive)
        for argument in arguments where argument.reorder != nil { dnnl_primitive_destroy(argument.reorder) }
    }

    /// Runs the primitive on the given tensors' storage (contiguous, float32), going
    /// through blocked temporaries where the primitive wants them, and waits.
    func execute(_ tensors: [(Int32, Tensor)]) {
        let runtime = DNNLRuntime.shared
        var memories: [dnnl_memory_t] = []
        var temporaries: [Storage] = []
        var args: [dnnl_exec_arg_t] = []
        var before: [(dnnl_primitive_t, dnnl_memory_t, dnnl_memory_t)] = []
        var after: [(dnnl_primitive_t, dnnl_memory_t, dnnl_memory_t)] = []
        for argument in arguments {
            guard let tensor = tensors.first(where: { $0.0 == argument.kind })?.1 else { continue }
            let user = runtime.memory(argument.plain, tensor.rawPointer)
            memories.append(user)
            if let blocked = argument.blocked, let reorder = argument.reorder {
                let storage = Storage.cpu(byteCount: max(argument.blockedBytes, 64))
                temporaries.append(storage)
                let inner = runtime.memory(blocked, storage.pointer)
                memories.append(inner)
                args.append(dnnl_exec_arg_t(arg: argument.kind, memory: inner))
                if argument.isOutput { after.append((reorder, inner, user)) } else { before.append((reorder, user, inner)) }
            } else {
                args.append(dnnl_exec_arg_t(arg: argument.kind, memory: user))
            }
        }
        runtime.lock.lock()
        var status = dnnl_success
        func reorder(_ step: (dnnl_primitive_t, dnnl_memory_t, dnnl_memory_t)) {
            let reorderArgs = [dnnl_exec_arg_t(arg: DNNL_ARG_FROM, memory: step.1), dnnl_exec_arg_t(arg: DNNL_ARG_TO, memory: step.2)]
            if status == dnnl_success { status = dnnl_primitive_execute(step.0, runtime.stream, 2, reorderArgs) }
        }
        before.forEach(reorder)
        if status == dnnl_success { status = dnnl_primitive_execute(primitive, runtime.stream, Int32(args.count), args) }
        after.forEach(reorder)
        let waited = dnnl_stream_wait(runtime.stream)
        runtime.lock.unlock()
        for memory in memories { dnnl_memory_destroy(memory) }
        withExtendedLifetime(temporaries) {}
        precondition(status == dnnl_success && waited == dnnl_success, "oneDNN: \(implementation) failed (status \(status.rawValue))")
    }
}

