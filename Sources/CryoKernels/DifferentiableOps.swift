/// The names of the differentiable tensor ops in CryoKernels. The gradient-check test must cover each one,
/// so adding an op here without a finite-difference check (or without a VJP) fails the suite. The list is kept by
/// hand: the tape records nameless VJP closures, many ops share one recording site (all unary functions, the axis
/// reductions, cat and stack), so deriving it would mean threading a name through each site. The projector, the
/// CTF and the low-pass filter are checked in their own tests (ProjectorTests, CTFTests).
public enum DifferentiableOps {
    /// Op names as the language exposes them.
    public static let all: [String] = [
        "add", "sub", "mul", "div", "pow", "maximum", "minimum", "neg",
        "exp", "log", "log10", "sqrt", "abs", "pow_scalar", "relu", "silu", "sigmoid", "tanh", "softplus", "sin", "cos",
        "sum", "sum_axis", "mean", "mean_axis", "max", "max_axis", "norm", "norm_axis",
        "reshape", "permute", "transpose", "cat", "stack", "slice", "select", "broadcast", "sum_to_shape",
        "gather", "segment_sum", "segment_mean", "matmul", "message_aggregate", "clash_loss",
        "sparse_apply", "esl_expected_loss",
        "gcn_stack",   // not a builtin: the GCN decoder's fused convolutions (GraphConvolutionStack)
        "esl_candidate_scores",   // not a builtin: pose-marginalised training's scores (CandidateScoring)
    ]
}
