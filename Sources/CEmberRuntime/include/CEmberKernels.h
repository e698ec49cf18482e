// Vectorised float32 kernels for the hottest CPU loops (exp-family functions, sqrt,
// softmax, sums). Each is compiled three times — AVX-512, AVX2+FMA and baseline x86-64 — through
// function target attributes, and the best one for the running CPU is picked once.
#ifndef CEMBER_KERNELS_H
#define CEMBER_KERNELS_H

/// y[i] = exp(x[i]) for n contiguous floats (x and y may be the same array).
void ember_exp_f32(const float *x, float *y, long n);
/// y[i] = tanh(x[i]).
void ember_tanh_f32(const float *x, float *y, long n);
/// y[i] = 1 / (1 + exp(-x[i])).
void ember_sigmoid_f32(const float *x, float *y, long n);
/// max(x, 0) with NaN kept (PyTorch's relu).
void ember_relu_f32(const float *x, float *y, long n);
/// y[i] = sqrt(x[i]) (correctly rounded, as the hardware instruction).
void ember_sqrt_f32(const float *x, float *y, long n);
/// y[i] = erf(x[i]) (absolute error below 2e-7).
void ember_erf_f32(const float *x, float *y, long n);
/// y[i] = x[i]/2 · (1 + erf(x[i]/√2)), GELU with the exact Gaussian CDF.
void ember_gelu_f32(const float *x, float *y, long n);
/// y[i] = g[i] · (Φ(x[i]) + x[i]·φ(x[i])), the gradient of exact GELU.
void ember_gelu_backward_f32(const float *x, const float *g, float *y, long n);
/// Standardises `rows` contiguous rows of `columns` floats: y = (x − mean)·rstd with
/// rstd = 1/√(biased variance + eps), writing each row's mean and rstd.
void ember_normalize_rows_f32(const float *x, float *y, float *mean, float *rstd, long rows, long columns, float eps);
/// The gradient of ember_normalize_rows_f32: dx = rstd·(g − mean(g) − x̂·mean(g·x̂)).
void ember_normalize_rows_backward_f32(const float *x, const float *g, const float *mean, const float *rstd, float *dx,
                                       long rows, long columns);
/// Operands of ember_lstm_cell_f32 for `rows` rows of `hidden` units. Every matrix is
/// row-major with contiguous rows, `*_stride` elements apart.
typedef struct {
    long rows, hidden;
    const float *gates; long gates_stride; ///< [rows, 4·hidden] pre-activations i, f, g, o
    const float *bias;                     ///< [4·hidden] added to every row of `gates`, or NULL
    const float *c; long c_stride;         ///< [rows, hidden] the previous cell
    float *out; long out_stride;           ///< [rows, 2·hidden] receives [h' | c']
    float *saved; long saved_stride;       ///< [rows, 5·hidden] receives σ(i), σ(f), tanh(g), σ(o), tanh(c')
} ember_lstm_cell_args;

/// LSTM cell update: c' = σ(f)·c + σ(i)·tanh(g), h' = σ(o)·tanh(c') from the pre-activations
/// gates (+ bias).
void ember_lstm_cell_f32(const ember_lstm_cell_args *args);

/// Operands of ember_lstm_cell_backward_f32 (row-major, contiguous rows, `*_stride` apart).
typedef struct {
    long rows, hidden;
    const float *grad; long grad_stride;   ///< [rows, 2·hidden] the gradient of [h' | c']
    const float *carried_h, *carried_c;    ///< [rows, hidden] each, added to `grad`'s halves, or NULL
    long carried_stride;
    const float *saved; long saved_stride; ///< [rows, 5·hidden] from ember_lstm_cell_f32
    const float *c; long c_stride;         ///< [rows, hidden] the previous cell
    float *dgates; long dgates_stride;     ///< [rows, 4·hidden] receives the gates' gradient
    float *dc; long dc_stride;             ///< [rows, hidden] receives c's gradient (may be `carried_c`)
    float *bias_grad;                      ///< [4·hidden] the gates' gradient summed over rows is added here, or NULL
} ember_lstm_cell_backward_args;

/// The gradient of ember_lstm_cell_f32 with respect to the gate pre-activations and c.
void ember_lstm_cell_backward_f32(const ember_lstm_cell_backward_args *args);
/// y = min(max(x, low), high) for n contiguous floats (NaN stays NaN; y may be x).
void ember_clamp_f32(const float *x, float *y, long n, float low, float high);

/// Operands and scalars of ember_adam_step_f32 (as `fusedAdamStep` in Ember computes them).
typedef struct {
    long count;
    float *param; const float *grad; float *exp_avg, *exp_avg_sq; ///< `count` contiguous floats each
    float decay, coupled_decay;            ///< 1 − γλ (decoupled) and λ (through the gradient)
    float mix, keep;                       ///< 1 − β₁ and β₁ for the moment's lerp
    float beta2, grad_weight;              ///< β₂ and 1 − β₂
    float denominator_scale, epsilon_term; ///< √c₂·(−s) and ε/(−s)
    int decays, decoupled, maximize, mix_small;
} ember_adam_args;

/// One Adam/AdamW step in place: decay, m ← lerp(m, g, 1 − β₁) (as `mix_small` picks),
/// v ← β₂·v + (1 − β₂)·g², θ ← θ + m / (√v / denominator_scale + epsilon_term).
void ember_adam_step_f32(const ember_adam_args *args);

/// Softmax (log_mode 0) or log-softmax (log_mode 1) of each of `rows` contiguous rows
/// of `columns` floats; NaN in a row makes the whole row NaN, as in PyTorch.
void ember_softmax_rows_f32(const float *x, float *y, long rows, long columns, int log_mode);
/// The sum of n contiguous floats (vector accumulators, lanes combined at the end).
float ember_sum_f32(const float *x, long n);
/// The name of the instruction set the kernels use on this CPU ("avx512", "avx2" or "sse2").
const char *ember_kernel_isa(void);

#endif
