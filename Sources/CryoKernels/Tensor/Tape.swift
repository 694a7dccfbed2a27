import Synchronization

/// Source of unique tape identities (0 means "no tape").
private let tapeCounter = Atomic<Int>(0)

/// The reverse-mode autodiff record: one node per op run on tensors that require a gradient.
///
/// Nodes live in an array and name their inputs by integer index, so a long computation is released
/// without recursion. Recording happens only inside `Tape.record` (or `valueAndGradient`) and only for ops
/// with at least one input that requires a gradient; everything else runs with no bookkeeping.
/// Backward passes themselves are not recorded (no higher-order derivatives).
public final class Tape: @unchecked Sendable {
    /// The tape that ops on the current task record onto; `nil` outside a recording scope.
    @TaskLocal public static var active: Tape?

    /// One recorded op: the node indices of its inputs (-1 for constants) and its vector–Jacobian product,
    /// which maps the output's cotangent to one cotangent per input (nil where the input is constant).
    struct Node {
        let inputs: [Int]
        let vjp: ((Tensor) throws -> [Tensor?])?
        let shape: [Int]
        /// Where the op recorded itself (nil for leaves).
        var site: RecordingSite? = nil
        /// The profiler label current when the op ran (only while profiling).
        var label: String? = nil
    }

    let id: Int
    private(set) var nodes: [Node] = []
    private var leaves: [(node: Int, tensor: Tensor)] = []

    /// An empty tape.
    public init() {
        id = tapeCounter.add(1, ordering: .relaxed).newValue
    }

    /// Number of recorded nodes (leaves included).
    public var nodeCount: Int { nodes.count }

    /// Runs `body` with a fresh tape active and returns its result with the tape.
    public static func record<R>(_ body: () throws -> R) rethrows -> (R, Tape) {
        let tape = Tape()
        let result = try Tape.$active.withValue(tape) { try body() }
        return (result, tape)
    }

    /// The node index of `t` on this tape, registering a leaf node for a parameter seen for the first time;
    /// -1 for tensors that are constants here.
    private func nodeIndex(of t: Tensor) -> Int {
        if t.tapeID == id { return t.node }
        guard t.requiresGrad && t.isLeaf else { return -1 }
        nodes.append(Node(inputs: [], vjp: nil, shape: t.shape))
        t.tapeID = id
        t.node = nodes.count - 1
        leaves.append((t.node, t))
        return t.node
    }

    /// Records `output = op(inputs)` with its VJP if a tape is active and an input requires a gradient.
    /// Every differentiable op calls this once after computing its output; the call's file and line identify the op
    /// (`RecordingSite`), so a helper shared by several ops passes its caller's line on.
    static func recordIfNeeded(_ output: Tensor, inputs: [Tensor], file: String = #fileID, line: Int = #line,
                               vjp: @escaping (Tensor) throws -> [Tensor?]) {
        guard inputs.contains(where: { $0.requiresGrad }), let tape = Tape.active else { return }
        let indices = inputs.map { tape.nodeIndex(of: $0) }
        guard indices.contains(where: { $0 >= 0 }) else { return }
        tape.nodes.append(Node(inputs: indices, vjp: vjp, shape: output.shape, site: RecordingSite(file: file, line: line),
                               label: Profiler.active == nil ? nil : Profiler.label))
        output.requiresGrad = true
        output.isLeaf = false
        output.tapeID = tape.id
        output.node = tape.nodes.count - 1
    }

    /// Cotangents of every node for the scalar `root` (seeded with 1), computed in reverse order.
    private func cotangents(of root: Tensor) throws -> [Tensor?] {
        guard root.count == 1 else {
            throw KernelError("backward", "needs a one-element loss, got shape \(formatShape(root.shape))")
        }
        var grads = [Tensor?](repeating: nil, count: nodes.count)
        guard root.tapeID == id, root.node >= 0 else { return grads }
        grads[root.node] = Tensor(uncheckedShape: root.shape, storage: [1])
        let profiler = Profiler.active
        try Tape.$active.withValue(nil) {
            for i in stride(from: root.node, through: 0, by: -1) {
                guard let g = grads[i], let vjp = nodes[i].vjp else { continue }
                let inputGrads = try profiler.map { try $0.timing((nodes[i].label ?? "other") + " (backward)") { try vjp(g) } } ?? vjp(g)
                for (k, input) in nodes[i].inputs.enumerated() where input >= 0 {
                    guard k < inputGrads.count, let gi = inputGrads[k] else { continue }
                    guard gi.shape == nodes[input].shape else {
                        throw KernelError("backward", "internal: cotangent shape \(formatShape(gi.shape)) for an input of shape \(formatShape(nodes[input].shape))")
                    }
                    grads[input] = try grads[input].map { try $0 + gi } ?? gi
                }
                if i != root.node { grads[i] = nil }
            }
        }
        return grads
    }

    /// Back-propagates from the scalar `root` and adds the result to the `.grad` of every leaf reached.
    public func backward(_ root: Tensor) throws {
        let grads = try cotangents(of: root)
        try Tape.$active.withValue(nil) {
            for (node, tensor) in leaves {
                guard let g = grads[node] else { continue }
                tensor.grad = try tensor.grad.map { try $0 + g } ?? g
            }
        }
    }

    /// Gradients of the scalar `root` with respect to `params` (zeros for a parameter `root` does not depend on).
    public func gradients(of root: Tensor, wrt params: [Tensor]) throws -> [Tensor] {
        let grads = try cotangents(of: root)
        return params.map { p in
            if p.tapeID == id, p.node >= 0, let g = grads[p.node] { return g }
            return Tensor.zeros(p.shape)
        }
    }
}

/// Evaluates `f` while recording, and returns its scalar value with its gradient for each of `params`.
/// The params are marked as trainable leaves; their `.grad` is left untouched.
public func valueAndGradient(wrt params: [Tensor], _ f: () throws -> Tensor) throws -> (value: Tensor, gradients: [Tensor]) {
    for p in params { p.asParameter() }
    let (value, tape) = try Tape.record(f)
    return (value, try tape.gradients(of: value, wrt: params))
}

/// Where a differentiable op records itself: the file (`#fileID`, "CryoKernels/MatMul.swift") and line of its
/// `Tape.recordIfNeeded` call, or of the call into a recording helper that several ops share (the unary functions).
/// The registry of differentiable ops is the set of these sites in the source; the gradient-check test requires
/// every one of them to be recorded by a passing finite-difference check.
public struct RecordingSite: Hashable, Sendable, CustomStringConvertible {
    public let file: String
    public let line: Int
    public var description: String { "\(file):\(line)" }
}
