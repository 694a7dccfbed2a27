import CryoKernels

/// Builtins that create tensors and rearrange them.
enum TensorBuiltins {
    static let topic = "tensors"

    static var all: [Builtin] {
        [
            builtin("tensor", topic: topic, [required("values"), optional("shape", .null)],
                    doc: "A Float32 tensor from a number or nested list; optionally reshaped.",
                    example: "tensor([[1, 2], [3, 4]])") { a in
                let t = try a.tensor("values")
                return .tensor(a.isNull("shape") ? t : try t.reshape(try a.ints("shape")))
            },
            builtin("zeros", topic: topic, [required("shape")], doc: "A tensor of zeros.", example: "zeros([2, 3])") { a in
                .tensor(Tensor.zeros(try validShape(a)))
            },
            builtin("ones", topic: topic, [required("shape")], doc: "A tensor of ones.", example: "ones([4])") { a in
                .tensor(Tensor.ones(try validShape(a)))
            },
            builtin("full", topic: topic, [required("shape"), required("value")], doc: "A tensor filled with one value.",
                    example: "full([2, 2], 0.5)") { a in
                .tensor(Tensor.full(try validShape(a), Float(try a.number("value"))))
            },
            builtin("arange", topic: topic, [required("start"), optional("end", .null), optional("step", .number(1))],
                    doc: "Evenly spaced values in [start, end); arange(n) is 0..n-1.", example: "arange(0, 1, step: 0.25)") { a in
                let (start, end) = a.isNull("end") ? (0, try a.number("start")) : (try a.number("start"), try a.number("end"))
                return .tensor(try Tensor.arange(start, end, step: try a.number("step")))
            },
            builtin("randn", topic: topic, [required("shape"), optional("std", .number(1)), optional("seed", .null)],
                    doc: "Normal samples with standard deviation std; seeded for reproducible runs.",
                    example: "randn([64, 10], std: 0.1, seed: 1)") { a in
                let shape = try validShape(a), std = Float(try a.number("std"))
                return .tensor(try a.withGenerator { g in Tensor.randn(shape, std: std, using: &g) })
            },
            builtin("uniform", topic: topic, [required("shape"), optional("low", .number(0)), optional("high", .number(1)), optional("seed", .null)],
                    doc: "Uniform samples in [low, high); seeded for reproducible runs.",
                    example: "uniform([3], low: -1, high: 1, seed: 2)") { a in
                let shape = try validShape(a), low = Float(try a.number("low")), high = Float(try a.number("high"))
                return .tensor(try a.withGenerator { g in Tensor.uniform(shape, low: low, high: high, using: &g) })
            },
            builtin("shape", topic: topic, [required("x")], doc: "The extents of a tensor's axes, as a list.", example: "shape(zeros([2, 3]))  # [2, 3]") { a in
                .list(try a.tensor("x").shape.map { .number(Double($0)) })
            },
            builtin("item", topic: topic, [required("x")], doc: "The number held by a one-element tensor.", example: "item(sum(ones([3])))  # 3") { a in
                .number(Double(try a.tensor("x").item()))
            },
            builtin("reshape", topic: topic, [required("x"), required("shape")],
                    doc: "Same elements, new shape; one extent may be -1.", example: "reshape(arange(6), [2, -1])") { a in
                .tensor(try a.tensor("x").reshape(try a.ints("shape")))
            },
            builtin("transpose", topic: topic, [required("x"), optional("a", .number(-2)), optional("b", .number(-1))],
                    doc: "Swaps two axes (by default the last two).", example: "transpose(w)") { a in
                .tensor(try a.tensor("x").transposed(try a.int("a"), try a.int("b")))
            },
            builtin("permute", topic: topic, [required("x"), required("axes")],
                    doc: "Reorders axes: output axis i is input axis axes[i].", example: "permute(x, [2, 0, 1])") { a in
                .tensor(try a.tensor("x").permute(try a.ints("axes")))
            },
            builtin("cat", topic: topic, [required("tensors"), optional("axis", .number(0))],
                    doc: "Joins tensors along an existing axis.", example: "cat([h[g.src], h[g.dst]], axis: -1)") { a in
                .tensor(try Tensor.concat(try tensors(a, "tensors"), axis: try a.int("axis")))
            },
            builtin("stack", topic: topic, [required("tensors"), optional("axis", .number(0))],
                    doc: "Stacks equally shaped tensors along a new axis.", example: "stack([x, y], axis: 0)") { a in
                .tensor(try Tensor.stack(try tensors(a, "tensors"), axis: try a.int("axis")))
            },
            builtin("slice", topic: topic, [required("x"), required("start"), required("end"), optional("axis", .number(0))],
                    doc: "Elements start..end-1 along an axis.", example: "slice(x, 0, 10, axis: 1)") { a in
                .tensor(try a.tensor("x").slice(axis: try a.int("axis"), start: try a.int("start"), end: try a.int("end")))
            },
            builtin("gather", topic: topic, [required("x"), required("index")],
                    doc: "Rows of x picked by an index tensor: [E] of row numbers → [E, ...]; same as x[index].",
                    example: "gather(h, g.src)") { a in
                .tensor(try a.tensor("x").gather(try a.tensor("index")))
            },
            builtin("segment_sum", topic: topic, [required("x"), required("ids"), required("n")],
                    doc: "Scatter-add: row e of x [E, ...] is added into row ids[e] of the [n, ...] result.",
                    example: "segment_sum(messages, g.dst, g.nodes)") { a in
                .tensor(try a.tensor("x").segmentSum(try a.tensor("ids"), segments: try a.int("n")))
            },
            builtin("message_aggregate", topic: topic, [required("source"), required("target"), required("edge"), required("src"), required("dst")],
                    doc: "Fused message passing: for each node n, Σ over edges e into n of silu(source[src[e]] + target[n] + edge[e]); source, target [N,B,H], edge [E,1,H] or [E,B,H] → [N,B,H], without [E,B,H] intermediates.",
                    example: "h + l.u(message_aggregate(h @ l.a, h @ l.b, l.e(rbf), g.src, g.dst))") { a in
                .tensor(try Tensor.messageAggregate(source: try a.tensor("source"), target: try a.tensor("target"), edge: try a.tensor("edge"),
                                                    src: try a.tensor("src"), dst: try a.tensor("dst")))
            },
            builtin("segment_mean", topic: topic, [required("x"), required("ids"), required("n")],
                    doc: "Scatter-mean: like segment_sum, divided by each segment's row count.",
                    example: "segment_mean(messages, g.dst, g.nodes)") { a in
                .tensor(try a.tensor("x").segmentMean(try a.tensor("ids"), segments: try a.int("n")))
            },
            builtin("broadcast", topic: topic, [required("x"), required("shape")],
                    doc: "Stretches x to a broadcast-compatible shape.", example: "broadcast(b, [32, 10])") { a in
                .tensor(try a.tensor("x").broadcast(to: try a.ints("shape")))
            },
            builtin("detach", topic: topic, [required("x")], doc: "A constant copy of x (no gradient flows through it).",
                    example: "detach(target)") { a in
                .tensor(try a.tensor("x").detached())
            },
        ]
    }

    static func validShape(_ a: Arguments) throws -> [Int] {
        let shape = try a.ints("shape")
        guard try elementCount(shape, op: a.callee) <= 1 << 31 else {
            throw a.fail("shape", "a list of non-negative extents with at most 2^31 elements", a["shape"])
        }
        return shape
    }

    static func tensors(_ a: Arguments, _ name: String) throws -> [Tensor] {
        try a.list(name).map { v in
            do { return try ValueConversion.tensor(v) } catch { throw a.fail(name, "a list of tensors", a[name]) }
        }
    }
}
