// oneDNN's matmul primitive for float32 products, created once per problem and cached.
// Its brgemm kernels read a transposed operand faster than `dnnl_sgemm` does (a linear
// layer's weight is stored [out, in], so every `x·Wᵀ` reads one) and add a bias row and
// apply an activation as they write the output, where sgemm needs more passes over it.
import CDNNL
import CEmberRuntime
import Foundation

/// One float32 product `C[m×n] = act(A[m×k]·B[k×n] + bias[n])` as oneDNN sees it: the
/// operands' row and column strides, whether a bias row is added, the activation (nil,
/// relu or a GELU) and how many threads the kernels were blocked for.
struct MatmulProblem: Hashable {
    var m, n, k: Int
    var aRowStride, aColumnStride: Int
    var bRowStride, bColumnStride: Int
    var hasBias: Bool
    var activation: UnaryOp?
    var threads: Int
}

/// The cache of created matmul primitives. Creation is serialised; execution is not (each
/// call brings its own stream and scratchpad), so whole batches running concurrently on
/// different threads (`Threading.concurrentPerform`) do not wait for each other.
final class DNNLMatmuls: @unchecked Sendable {
    static let shared = DNNLMatmuls()

    /// A created primitive and the descriptors of its arguments.
    final class Entry {
        let primitive: dnnl_primitive_t
        let a, b, c, bias: dnnl_memory_desc_t
        let scratchpad: dnnl_memory_desc_t
        let scratchpadBytes: Int
        /// oneDNN's name of the chosen implementation (for profiling).
        let implementation: String

        init(primitive: dnnl_primitive_t, a: dnnl_memory_desc_t, b: dnnl_memory_desc_t, c: dnnl_memory_desc_t,
             bias: dnnl_memory_desc_t, scratchpad: dnnl_memory_desc_t, scratchpadBytes: Int, implementation: String) {
            self.primitive = primitive
            self.a = a; self.b = b; self.c = c; self.bias = bias
            self.scratchpad = scratchpad
            self.scratchpadBytes = scratchpadBytes
            self.implementation = implementation
        }

        deinit { dnnl_primitive_destroy(primitive) }
    }

    /// Problems kept; past this the oldest is dropped (sequence lengths vary per batch, so
    /// the set of shapes a long run sees is open-ended).
    static let capacity = 256
    private var cache: [MatmulProblem: Entry?] = [:]
    private var insertionOrder: [MatmulProblem] = []
    private let lock = NSLock()
    /// `EMBER_VERBOSE_DNNL` set: print each problem as its primitive is created.
    private let verbose = ProcessInfo.processInfo.environment["EMBER_VERBOSE_DNNL"] != nil
    /// `EMBER_MATMUL_PRIMITIVE=0`: never use the primitive (everything on sgemm, epilogues
    /// in passes of their own), for measuring what it brings.
    private let disabled = ProcessInfo.processInfo.environment["EMBER_MATMUL_PRIMITIVE"] == "0"

    /// Computes `c = a·b (+ bias)` with the primitive for `problem`; false when oneDNN
    /// declines the problem (the caller then uses sgemm). Pointers are to float32 data laid
    /// out as `problem` says; `c` is contiguous with `n` columns; `bias` has `n` elements.
    func run(_ problem: MatmulProblem, a: UnsafeRawPointer, b: UnsafeRawPointer, bias: UnsafeRawPointer?,
             c: UnsafeMutableRawPointer) -> Bool {
        guard !disabled, let entry = entry(problem) else { return false }
        let engine = DNNLRuntime.shared.engine
        var stream: dnnl_stream_t?
        guard dnnl_stream_create(&stream, engine, dnnl_stream_default_flags.rawValue) == dnnl_success else { return false }
        defer { dnnl_stream_destroy(stream) }
        let runtime = DNNLRuntime.shared
        var memories = [runtime.memory(entry.a, UnsafeMutableRawPointer(mutating: a)),
                        runtime.memory(entry.b, UnsafeMutableRawPointer(mutating: b)),
                        runtime.memory(entry.c, c)]
        var args = [dnnl_exec_arg_t(arg: DNNL_ARG_SRC, memory: memories[0]),
                    dnnl_exec_arg_t(arg: DNNL_ARG_WEIGHTS, memory: memories[1]),
                    dnnl_exec_arg_t(arg: DNNL_ARG_DST, memory: memories[2])]
        if let bias {
            memories.append(runtime.memory(entry.bias, UnsafeMutableRawPointer(mutating: bias)))
            args.append(dnnl_exec_arg_t(arg: DNNL_ARG_BIAS, memory: memories[3]))
        }
        let scratchpad = entry.scratchpadBytes > 0 ? Storage.cpu(byteCount: entry.scratchpadBytes) : nil
        if let scratchpad {
            memories.append(runtime.memory(entry.scratchpad, scratchpad.pointer))
            args.append(dnnl_exec_arg_t(arg: DNNL_ARG_SCRATCHPAD, memory: memories[memories.count - 1]))
        }
        let status = dnnl_primitive_execute(entry.primitive, stream, Int32(args.count), args)
        let waited = dnnl_stream_wait(stream)
        for memory in memories { dnnl_memory_destroy(memory) }
        withExtendedLifetime(scratchpad) {}
        precondition(status == dnnl_success && waited == dnnl_success,
                     "matmul: oneDNN's matmul primitive failed (status \(status.rawValue))")
        return true
    }

    /// The cached primitive for `problem`, created on first use; nil when oneDNN declines.
    private func entry(_ problem: MatmulProblem) -> Entry? {
        lock.lock()
        defer { lock.unlock() }
        if let cached = cache[problem] { return cached }
        if insertionOrder.count >= Self.capacity {
            cache[insertionOrder.removeFirst()] = nil
        }
        let created = make(problem)
        if verbose {
            print("oneDNN matmul \(problem): \(created.map { "\($0.implementation), scratchpad \($0.scratchpadBytes) bytes" } ?? "declined, using sgemm")")
        }
        cache[problem] = .some(created)
        insertionOrder.append(problem)
        return created
    }

    private func make(_ p: MatmulProblem) -> Entry? {
        func desc(_ dims: [Int], _ strides: [Int]) -> dnnl_memory_desc_t? {
            var md = dnnl_memory_desc_t()
            let status = dnnl_memory_desc_init_by_strides(&md, 2, dims.map { Int64($0) }, dnnl_f32, strides.map { Int64($0) })
            return status == dnnl_success ? md : nil
        }
        guard var a = desc([p.m, p.k], [p.aRowStride, p.aColumnStride]),
              var b = desc([p.k, p.n], [p.bRowStride, p.bColumnStride]),
              var c = desc([p.m, p.n], [p.n, 1]),
              var bias = desc([1, p.n], [p.n, 1]) else { return nil }
        var opDesc = dnnl_matmul_desc_t()
        let described = withUnsafeMutablePointer(to: &bias) { biasPointer in
            dnnl_matmul_desc_init(&opDesc, &a, &b, p.hasBias ? biasPointer : nil, &c)
        }
        guard described == dnnl_success else { return nil }
        var attr: dnnl_primitive_attr_t?
        guard dnnl_primitive_attr_create(&attr) == dnnl_success else { return nil }
        defer { dnnl_primitive_attr_destroy(attr) }
        dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user)
        if let activation = p.activation {
            let kind: dnnl_alg_kind_t
            switch activation {
            case .relu: kind = dnnl_eltwise_relu
            case .gelu: kind = dnnl_eltwise_gelu_erf
            case .geluTanh: kind = dnnl_eltwise_gelu_tanh
            default: return nil
            }
            var postOps: dnnl_post_ops_t?
            guard dnnl_post_ops_create(&postOps) == dnnl_success else { return nil }
            defer { dnnl_post_ops_destroy(postOps) }
            guard dnnl_post_ops_append_eltwise(postOps, 1, kind, 0, 0) == dnnl_success,
                  dnnl_primitive_attr_set_post_ops(attr, postOps) == dnnl_success else { return nil }
        }
        var pd: dnnl_primitive_desc_t?
        guard dnnl_primitive_desc_create(&pd, &opDesc, attr, DNNLRuntime.shared.engine, nil) == dnnl_success else { return nil }
        defer { dnnl_primitive_desc_destroy(pd) }
        var scratchpad = dnnl_memory_desc_t()
        if let queried = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0) { scratchpad = queried.pointee }
        let scratchpadBytes = dnnl_memory_desc_get_size(&scratchpad)
        var primitive: dnnl_primitive_t?
        guard dnnl_primitive_create(&primitive, pd) == dnnl_success, let primitive else { return nil }
        var name: UnsafePointer<CChar>?
        dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &name)
        return Entry(primitive: primitive, a: a, b: b, c: c, bias: bias, scratchpad: scratchpad, scratchpadBytes: scratchpadBytes,
                     implementation: name.map { String(cString: $0) } ?? "?")
    }

    /// The threads a primitive created here and now would be blocked for: one inside a
    /// parallel region (oneDNN runs nested work serially), else OpenMP's current maximum.
    static var currentThreads: Int {
        ember_omp_in_parallel() != 0 ? 1 : Int(ember_omp_max_threads())
    }
}
