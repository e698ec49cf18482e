// Vectorised float32 kernels, written once on 16-lane generic vectors and compiled for
// AVX-512, AVX2+FMA and baseline x86-64 through target attributes; a dispatcher picks one
// at first use. exp uses the Cephes range reduction and polynomial (about 1 ulp); tanh uses
// its small-argument polynomial below |x| = 0.625 and 1 - 2/(exp(2|x|) + 1) above.
#include "CEmberKernels.h"
#include <math.h>
#include <string.h>

// The 16-lane helpers below are always inlined into the per-ISA kernels, so the ABI of
// passing wide vectors between functions never arises.
#pragma clang diagnostic ignored "-Wpsabi"

typedef float v16f __attribute__((vector_size(64)));
typedef int v16i __attribute__((vector_size(64)));

#define ALWAYS_INLINE static inline __attribute__((always_inline))

ALWAYS_INLINE v16f splat(float v) { return (v16f){v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v}; }
ALWAYS_INLINE v16f load16(const float *p) { v16f v; memcpy(&v, p, sizeof v); return v; }
ALWAYS_INLINE void store16(float *p, v16f v) { memcpy(p, &v, sizeof v); }
/// Loads the first `n` (< 16) floats, padding with `fill`.
ALWAYS_INLINE v16f load_partial(const float *p, long n, float fill) {
    float buffer[16];
    for (int i = 0; i < 16; i++) buffer[i] = i < n ? p[i] : fill;
    return load16(buffer);
}
ALWAYS_INLINE void store_partial(float *p, v16f v, long n) {
    float buffer[16];
    store16(buffer, v);
    for (long i = 0; i < n; i++) p[i] = buffer[i];
}
/// Stores a full vector; when `p` is 64-byte aligned, as a streaming store that does not
/// first read the cache line (for results read back only much later). Follow a run of these
/// with streaming_done().
ALWAYS_INLINE void store16_streaming(float *p, v16f v) {
    if (((unsigned long)p & 63) == 0) __builtin_nontemporal_store(v, (v16f *)p); else store16(p, v);
}
ALWAYS_INLINE void streaming_done(void) { __builtin_ia32_sfence(); }
ALWAYS_INLINE v16f blend(v16i mask, v16f yes, v16f no) {
    return (v16f)(((v16i)yes & mask) | ((v16i)no & ~mask));
}
ALWAYS_INLINE float horizontal_sum(v16f v) {
    float total = 0;
    for (int i = 0; i < 16; i++) total += v[i];
    return total;
}

/// The Cephes polynomial for exp(r), |r| ≤ ln2/2, with `n` the power of two split off.
ALWAYS_INLINE v16f exp16_reduced(v16f clamped, v16f *n) {
    *n = __builtin_elementwise_floor(clamped * splat(1.44269504088896341f) + splat(0.5f));
    v16f r = clamped - *n * splat(0.693359375f) + *n * splat(2.12194440e-4f);
    v16f p = splat(1.9875691500e-4f);
    p = p * r + splat(1.3981999507e-3f);
    p = p * r + splat(8.3334519073e-3f);
    p = p * r + splat(4.1665795894e-2f);
    p = p * r + splat(1.6666665459e-1f);
    p = p * r + splat(5.0000001201e-1f);
    return p * r * r + r + splat(1.0f);
}

/// exp on 16 lanes; NaN stays NaN, large inputs give inf, very negative ones 0.
ALWAYS_INLINE v16f exp16(v16f x) {
    v16i is_nan = x != x;
    v16f clamped = __builtin_elementwise_min(__builtin_elementwise_max(x, splat(-103.972f)), splat(88.7228f));
    v16f n;
    v16f y = exp16_reduced(clamped, &n);
    // Scale by 2^n in two steps so exponents below -126 still reach subnormals.
    v16i ni = __builtin_convertvector(n, v16i);
    v16i half = ni >> 1;
    v16f scale1 = (v16f)((half + 127) << 23);
    v16f scale2 = (v16f)((ni - half + 127) << 23);
    y = y * scale1 * scale2;
    y = blend(x > splat(88.7228f), splat(INFINITY), y);
    y = blend(x < splat(-103.972f), splat(0.0f), y);
    return blend(is_nan, x, y);
}

/// exp for 0 ≤ x (NaN, inf and anything above 88.3 give exp(88.3), about 2¹²⁷): what
/// tanh's 1 − 2/(e^2|x| + 1) needs, with one scaling step (2ⁿ stays a normal float).
ALWAYS_INLINE v16f exp16_nonnegative(v16f x) {
    v16f n;
    v16f y = exp16_reduced(__builtin_elementwise_min(x, splat(88.3f)), &n);
    return y * (v16f)((__builtin_convertvector(n, v16i) + 127) << 23);
}

ALWAYS_INLINE v16f tanh16(v16f x) {
    v16f a = __builtin_elementwise_abs(x);
    // Small arguments: x + x·z·P(z), z = x².
    v16f z = x * x;
    v16f p = splat(-5.70498872745e-3f);
    p = p * z + splat(2.06390887954e-2f);
    p = p * z + splat(-5.37397155531e-2f);
    p = p * z + splat(1.33314422036e-1f);
    p = p * z + splat(-3.33332819422e-1f);
    v16f small = x + x * z * p;
    // Large arguments: sign(x)·(1 - 2 / (exp(2|x|) + 1)).
    v16f large = splat(1.0f) - splat(2.0f) / (exp16_nonnegative(a + a) + splat(1.0f));
    large = (v16f)(((v16i)large) | ((v16i)x & (v16i)splat(-0.0f)));
    v16f y = blend(a < splat(0.625f), small, large);
    return blend(x != x, x, y);
}

ALWAYS_INLINE v16f sigmoid16(v16f x) { return splat(1.0f) / (splat(1.0f) + exp16(-x)); }

/// max(x, 0), NaN kept.
ALWAYS_INLINE v16f relu16(v16f x) { return blend((x > splat(0.0f)) | (x != x), x, splat(0.0f)); }

ALWAYS_INLINE v16f sqrt16(v16f x) { return __builtin_elementwise_sqrt(x); }

/// erfc(a) for a >= 0.5 by Abramowitz & Stegun 7.1.26: t·P(t)·exp(-a²), t = 1/(1 + p·a)
/// (erf's absolute error below 1.5e-7).
ALWAYS_INLINE v16f erfc_tail16(v16f a) {
    v16f t = splat(1.0f) / (splat(1.0f) + splat(0.3275911f) * a);
    v16f p = splat(1.061405429f);
    p = p * t - splat(1.453152027f);
    p = p * t + splat(1.421413741f);
    p = p * t - splat(0.284496736f);
    p = p * t + splat(0.254829592f);
    return p * t * exp16(-(a * a));
}

/// erf for |x| < 0.5: the Maclaurin series to x^13 (relative error below 1e-9).
ALWAYS_INLINE v16f erf_series16(v16f x) {
    v16f z = x * x;
    v16f s = splat(1.0f / 9360.0f);
    s = s * z - splat(1.0f / 1320.0f);
    s = s * z + splat(1.0f / 216.0f);
    s = s * z - splat(1.0f / 42.0f);
    s = s * z + splat(1.0f / 10.0f);
    s = s * z - splat(1.0f / 3.0f);
    s = s * z + splat(1.0f);
    return x * s * splat(1.12837916709551257f);
}

/// erf(x) from its two parts: the series below |x| = 0.5, else ±(1 - erfc(|x|)).
ALWAYS_INLINE v16f erf_from16(v16f x, v16f tail) {
    v16f large = splat(1.0f) - tail;
    large = (v16f)(((v16i)large) | ((v16i)x & (v16i)splat(-0.0f)));
    return blend(__builtin_elementwise_abs(x) < splat(0.5f), erf_series16(x), large);
}

ALWAYS_INLINE v16f erf16(v16f x) {
    v16f y = erf_from16(x, erfc_tail16(__builtin_elementwise_abs(x)));
    return blend(x != x, x, y);
}

/// GELU with the exact Gaussian CDF, x/2 · (1 + erf(x/√2)). Where x/√2 < -0.5 the factor
/// 1 + erf is erfc(|x|/√2) itself, so small outputs keep their relative accuracy.
ALWAYS_INLINE v16f gelu16(v16f x) {
    v16f u = x * splat(0.70710678118654752f);
    v16f tail = erfc_tail16(__builtin_elementwise_abs(u));
    v16f factor = blend(u < splat(-0.5f), tail, splat(1.0f) + erf_from16(u, tail));
    return blend(x != x, x, x * splat(0.5f) * factor);
}

/// The GELU gradient g · (Φ(x) + x·φ(x)), Φ formed as in gelu16.
ALWAYS_INLINE v16f gelu_backward16(v16f x, v16f g) {
    v16f u = x * splat(0.70710678118654752f);
    v16f tail = erfc_tail16(__builtin_elementwise_abs(u));
    v16f cdf = splat(0.5f) * blend(u < splat(-0.5f), tail, splat(1.0f) + erf_from16(u, tail));
    v16f pdf = exp16(x * x * splat(-0.5f)) * splat(0.39894228040143267f);
    return g * (cdf + x * pdf);
}

ALWAYS_INLINE void gelu_backward_body(const float *x, const float *g, float *y, long n) {
    long i = 0;
    for (; i + 16 <= n; i += 16) store16(y + i, gelu_backward16(load16(x + i), load16(g + i)));
    if (i < n) store_partial(y + i, gelu_backward16(load_partial(x + i, n - i, 0), load_partial(g + i, n - i, 0)), n - i);
}

/// Row standardisation: mean, rstd = 1/sqrt(biased variance + eps), y = (x - mean)·rstd.
ALWAYS_INLINE void normalize_rows_body(const float *x, float *y, float *mean, float *rstd, long rows, long columns, float eps) {
    for (long row = 0; row < rows; row++) {
        const float *source = x + row * columns;
        float *target = y + row * columns;
        v16f total = splat(0);
        long i = 0;
        for (; i + 16 <= columns; i += 16) total += load16(source + i);
        if (i < columns) total += load_partial(source + i, columns - i, 0);
        float mu = horizontal_sum(total) / (float)columns;
        v16f m = splat(mu), squares = splat(0);
        for (i = 0; i + 16 <= columns; i += 16) { v16f d = load16(source + i) - m; squares += d * d; }
        if (i < columns) { v16f d = load_partial(source + i, columns - i, mu) - m; squares += d * d; }
        float scale = 1.0f / sqrtf(horizontal_sum(squares) / (float)columns + eps);
        v16f s = splat(scale);
        for (i = 0; i + 16 <= columns; i += 16) store16(target + i, (load16(source + i) - m) * s);
        if (i < columns) store_partial(target + i, (load_partial(source + i, columns - i, 0) - m) * s, columns - i);
        mean[row] = mu;
        rstd[row] = scale;
    }
}

/// The gradient of normalize_rows: dx = rstd·(g - mean(g) - x̂·mean(g·x̂)), x̂ = (x - mean)·rstd.
ALWAYS_INLINE void normalize_rows_backward_body(const float *x, const float *g, const float *mean, const float *rstd,
                                                float *dx, long rows, long columns) {
    for (long row = 0; row < rows; row++) {
        const float *source = x + row * columns, *grad = g + row * columns;
        float *target = dx + row * columns;
        v16f m = splat(mean[row]), s = splat(rstd[row]);
        v16f sum_g = splat(0), sum_gx = splat(0);
        long i = 0;
        for (; i + 16 <= columns; i += 16) {
            v16f gv = load16(grad + i);
            sum_g += gv;
            sum_gx += gv * ((load16(source + i) - m) * s);
        }
        if (i < columns) {
            v16f gv = load_partial(grad + i, columns - i, 0);
            sum_g += gv;
            sum_gx += gv * ((load_partial(source + i, columns - i, mean[row]) - m) * s);
        }
        v16f mean_g = splat(horizontal_sum(sum_g) / (float)columns);
        v16f mean_gx = splat(horizontal_sum(sum_gx) / (float)columns);
        for (i = 0; i + 16 <= columns; i += 16) {
            v16f xhat = (load16(source + i) - m) * s;
            store16(target + i, s * (load16(grad + i) - mean_g - xhat * mean_gx));
        }
        if (i < columns) {
            v16f xhat = (load_partial(source + i, columns - i, 0) - m) * s;
            store_partial(target + i, s * (load_partial(grad + i, columns - i, 0) - mean_g - xhat * mean_gx), columns - i);
        }
    }
}

/// One LSTM cell update per row (see ember_lstm_cell_args): the pre-activations
/// gates (+ bias), in PyTorch's order i, f, g, o, and the previous cell c give
/// out = [h' | c'] with c' = σ(f)·c + σ(i)·tanh(g), h' = σ(o)·tanh(c'); `saved` keeps σ(i),
/// σ(f), tanh(g), σ(o) and tanh(c') for the backward pass.
ALWAYS_INLINE void lstm_cell_body(const ember_lstm_cell_args *a) {
    const long h = a->hidden;
    for (long row = 0; row < a->rows; row++) {
        const float *gr = a->gates + row * a->gates_stride, *cr = a->c + row * a->c_stride;
        float *hr = a->out + row * a->out_stride, *cn = hr + h, *sr = a->saved + row * a->saved_stride;
        for (long j = 0; j < h; j += 16) {
            long n = h - j < 16 ? h - j : 16;
#define LOAD(p) (n == 16 ? load16(p) : load_partial((p), n, 0))
            v16f pre[4];
            for (int k = 0; k < 4; k++) {
                pre[k] = LOAD(gr + k * h + j);
                if (a->bias) pre[k] += LOAD(a->bias + k * h + j);
            }
            v16f i = sigmoid16(pre[0]), f = sigmoid16(pre[1]), g = tanh16(pre[2]), o = sigmoid16(pre[3]);
            v16f c2 = f * LOAD(cr + j) + i * g;
#undef LOAD
            v16f t = tanh16(c2);
            v16f values[7] = {o * t, c2, i, f, g, o, t};
            float *targets[7] = {hr + j, cn + j, sr + j, sr + h + j, sr + 2 * h + j, sr + 3 * h + j, sr + 4 * h + j};
            // The saved activations are read only by the backward pass: streamed past the cache.
            for (int k = 0; k < 7; k++) {
                if (n < 16) store_partial(targets[k], values[k], n);
                else if (k < 2) store16(targets[k], values[k]);
                else store16_streaming(targets[k], values[k]);
            }
        }
    }
    streaming_done();
}

/// The gradient of lstm_cell_body (see ember_lstm_cell_backward_args): from d[h' | c']
/// (+ the carried [dh | dc]), the saved activations and the previous cell, the gradients
/// of the gate pre-activations and of c.
ALWAYS_INLINE void lstm_cell_backward_body(const ember_lstm_cell_backward_args *a) {
    const long h = a->hidden;
    for (long row = 0; row < a->rows; row++) {
        const float *dh = a->grad + row * a->grad_stride, *dcn = dh + h;
        const float *sr = a->saved + row * a->saved_stride, *cr = a->c + row * a->c_stride;
        const float *ch = a->carried_h ? a->carried_h + row * a->carried_stride : 0;
        const float *cc = a->carried_c ? a->carried_c + row * a->carried_stride : 0;
        float *dg = a->dgates + row * a->dgates_stride, *dcr = a->dc + row * a->dc_stride;
        for (long j = 0; j < h; j += 16) {
            long n = h - j < 16 ? h - j : 16;
#define LOAD(p) (n == 16 ? load16(p) : load_partial((p), n, 0))
#define STORE(p, v) do { if (n == 16) store16((p), (v)); else store_partial((p), (v), n); } while (0)
            v16f i = LOAD(sr + j), f = LOAD(sr + h + j), g = LOAD(sr + 2 * h + j), o = LOAD(sr + 3 * h + j);
            v16f t = LOAD(sr + 4 * h + j), gh = LOAD(dh + j), gc = LOAD(dcn + j);
            if (ch) gh += LOAD(ch + j);
            if (cc) gc += LOAD(cc + j);
            v16f one = splat(1.0f);
            v16f dcell = gc + gh * o * (one - t * t);
            // The gates' gradient is read only after the whole sequence: streamed past the cache.
            v16f dgv[4] = {dcell * g * i * (one - i), dcell * LOAD(cr + j) * f * (one - f), dcell * i * (one - g * g),
                           gh * t * o * (one - o)};
            for (int k = 0; k < 4; k++) {
                if (n == 16) store16_streaming(dg + k * h + j, dgv[k]); else store_partial(dg + k * h + j, dgv[k], n);
                if (a->bias_grad) STORE(a->bias_grad + k * h + j, LOAD(a->bias_grad + k * h + j) + dgv[k]);
            }
            STORE(dcr + j, dcell * f);
#undef LOAD
#undef STORE
        }
    }
    streaming_done();
}

/// min(max(x, low), high) with NaN kept (the vector min/max builtins would drop it).
ALWAYS_INLINE v16f clamp16(v16f x, v16f low, v16f high) {
    return blend(x != x, x, __builtin_elementwise_min(__builtin_elementwise_max(x, low), high));
}

/// clamp16 over n floats, as DEFINE_MAP's loops with the two bounds added.
ALWAYS_INLINE void clamp_body(const float *x, float *y, long n, float low, float high) {
    v16f lo = splat(low), hi = splat(high);
    long i = 0;
    for (; i + 16 <= n; i += 16) store16(y + i, clamp16(load16(x + i), lo, hi));
    if (i < n) store_partial(y + i, clamp16(load_partial(x + i, n - i, 0), lo, hi), n - i);
}

/// One Adam/AdamW update (see ember_adam_args), with exactly the roundings of the op-by-op
/// form: no multiply-add contraction.
ALWAYS_INLINE void adam_step_body(const ember_adam_args *a) {
#pragma clang fp contract(off)
    for (long i = 0; i < a->count; i += 16) {
        long n = a->count - i < 16 ? a->count - i : 16;
#define LOAD(p) (n == 16 ? load16(p) : load_partial((p), n, 0))
#define STORE(p, v) do { if (n == 16) store16((p), (v)); else store_partial((p), (v), n); } while (0)
        v16f g = LOAD(a->grad + i), theta = LOAD(a->param + i), m = LOAD(a->exp_avg + i), v = LOAD(a->exp_avg_sq + i);
        if (a->maximize) g = -g;
        if (a->decays) {
            if (a->decoupled) theta = theta * splat(a->decay); else g = g + splat(a->coupled_decay) * theta;
        }
        v16f mean = a->mix_small ? m + splat(a->mix) * (g - m) : g - (g - m) * splat(a->keep);
        v16f square = v * splat(a->beta2) + splat(a->grad_weight) * (g * g);
        STORE(a->exp_avg + i, mean);
        STORE(a->exp_avg_sq + i, square);
        STORE(a->param + i, theta + mean / (sqrt16(square) / splat(a->denominator_scale) + splat(a->epsilon_term)));
#undef LOAD
#undef STORE
    }
}

#define DEFINE_MAP(name, function)                                             \
    ALWAYS_INLINE void name##_body(const float *x, float *y, long n) {         \
        long i = 0;                                                            \
        for (; i + 16 <= n; i += 16) store16(y + i, function(load16(x + i)));  \
        if (i < n) store_partial(y + i, function(load_partial(x + i, n - i, 0)), n - i); \
    }
DEFINE_MAP(exp, exp16)
DEFINE_MAP(tanh, tanh16)
DEFINE_MAP(sigmoid, sigmoid16)
DEFINE_MAP(sqrt, sqrt16)
DEFINE_MAP(erf, erf16)
DEFINE_MAP(gelu, gelu16)
DEFINE_MAP(relu, relu16)

ALWAYS_INLINE void softmax_rows_body(const float *x, float *y, long rows, long columns, int log_mode) {
    for (long row = 0; row < rows; row++) {
        const float *source = x + row * columns;
        float *target = y + row * columns;
        v16f largest = splat(-INFINITY);
        v16i saw_nan = (v16i){0};
        long i = 0;
        for (; i + 16 <= columns; i += 16) {
            v16f v = load16(source + i);
            saw_nan |= v != v;
            largest = __builtin_elementwise_max(largest, v);
        }
        if (i < columns) {
            v16f v = load_partial(source + i, columns - i, -INFINITY);
            saw_nan |= v != v;
            largest = __builtin_elementwise_max(largest, v);
        }
        float peak = -INFINITY;
        int any_nan = 0;
        for (int k = 0; k < 16; k++) {
            if (largest[k] > peak) peak = largest[k];
            any_nan |= saw_nan[k];
        }
        if (any_nan) {
            for (long j = 0; j < columns; j++) target[j] = NAN;
            continue;
        }
        if (peak == -INFINITY) peak = 0;
        v16f shift = splat(peak);
        v16f total = splat(0);
        i = 0;
        if (log_mode) {
            for (; i + 16 <= columns; i += 16) total += exp16(load16(source + i) - shift);
            if (i < columns) total += exp16(load_partial(source + i, columns - i, -INFINITY) - shift);
            v16f offset = splat(peak + logf(horizontal_sum(total)));
            for (i = 0; i + 16 <= columns; i += 16) store16(target + i, load16(source + i) - offset);
            if (i < columns) store_partial(target + i, load_partial(source + i, columns - i, 0) - offset, columns - i);
        } else {
            for (; i + 16 <= columns; i += 16) {
                v16f e = exp16(load16(source + i) - shift);
                store16(target + i, e);
                total += e;
            }
            if (i < columns) {
                v16f e = exp16(load_partial(source + i, columns - i, -INFINITY) - shift);
                store_partial(target + i, e, columns - i);
                total += e;
            }
            v16f scale = splat(1.0f / horizontal_sum(total));
            for (i = 0; i + 16 <= columns; i += 16) store16(target + i, load16(target + i) * scale);
            if (i < columns) store_partial(target + i, load_partial(target + i, columns - i, 0) * scale, columns - i);
        }
    }
}

ALWAYS_INLINE float sum_body(const float *x, long n) {
    v16f a0 = splat(0), a1 = splat(0), a2 = splat(0), a3 = splat(0);
    long i = 0;
    for (; i + 64 <= n; i += 64) {
        a0 += load16(x + i);
        a1 += load16(x + i + 16);
        a2 += load16(x + i + 32);
        a3 += load16(x + i + 48);
    }
    for (; i + 16 <= n; i += 16) a0 += load16(x + i);
    if (i < n) a1 += load_partial(x + i, n - i, 0);
    return horizontal_sum((a0 + a1) + (a2 + a3));
}

// One copy of every kernel per instruction set.
#define DEFINE_VARIANTS(suffix, features)                                                              \
    __attribute__((target(features))) static void exp_##suffix(const float *x, float *y, long n) { exp_body(x, y, n); } \
    __attribute__((target(features))) static void tanh_##suffix(const float *x, float *y, long n) { tanh_body(x, y, n); } \
    __attribute__((target(features))) static void sigmoid_##suffix(const float *x, float *y, long n) { sigmoid_body(x, y, n); } \
    __attribute__((target(features))) static void relu_##suffix(const float *x, float *y, long n) { relu_body(x, y, n); } \
    __attribute__((target(features))) static void sqrt_##suffix(const float *x, float *y, long n) { sqrt_body(x, y, n); } \
    __attribute__((target(features))) static void erf_##suffix(const float *x, float *y, long n) { erf_body(x, y, n); } \
    __attribute__((target(features))) static void gelu_##suffix(const float *x, float *y, long n) { gelu_body(x, y, n); } \
    __attribute__((target(features))) static void normalize_rows_##suffix(const float *x, float *y, float *m, float *r, long rows, long c, float eps) { normalize_rows_body(x, y, m, r, rows, c, eps); } \
    __attribute__((target(features))) static void normalize_rows_backward_##suffix(const float *x, const float *g, const float *m, const float *r, float *dx, long rows, long c) { normalize_rows_backward_body(x, g, m, r, dx, rows, c); } \
    __attribute__((target(features))) static void lstm_cell_##suffix(const ember_lstm_cell_args *a) { lstm_cell_body(a); } \
    __attribute__((target(features))) static void lstm_cell_backward_##suffix(const ember_lstm_cell_backward_args *a) { lstm_cell_backward_body(a); } \
    __attribute__((target(features))) static void clamp_##suffix(const float *x, float *y, long n, float lo, float hi) { clamp_body(x, y, n, lo, hi); } \
    __attribute__((target(features))) static void adam_step_##suffix(const ember_adam_args *a) { adam_step_body(a); } \
    __attribute__((target(features))) static void gelu_backward_##suffix(const float *x, const float *g, float *y, long n) { gelu_backward_body(x, g, y, n); } \
    __attribute__((target(features))) static void softmax_##suffix(const float *x, float *y, long r, long c, int l) { softmax_rows_body(x, y, r, c, l); } \
    __attribute__((target(features))) static float sum_##suffix(const float *x, long n) { return sum_body(x, n); }

DEFINE_VARIANTS(avx512, "avx512f,avx512dq,avx512vl,avx2,fma")
DEFINE_VARIANTS(avx2, "avx2,fma")
DEFINE_VARIANTS(sse2, "sse2")

typedef enum { ISA_UNKNOWN, ISA_SSE2, ISA_AVX2, ISA_AVX512 } isa_t;
static isa_t detected = ISA_UNKNOWN;

static isa_t isa(void) {
    if (detected == ISA_UNKNOWN) {
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
            detected = ISA_AVX512;
        else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
            detected = ISA_AVX2;
        else
            detected = ISA_SSE2;
    }
    return detected;
}

#define DISPATCH(name, ...)                                  \
    switch (isa()) {                                         \
    case ISA_AVX512: return name##_avx512(__VA_ARGS__);      \
    case ISA_AVX2: return name##_avx2(__VA_ARGS__);          \
    default: return name##_sse2(__VA_ARGS__);                \
    }

void ember_exp_f32(const float *x, float *y, long n) { DISPATCH(exp, x, y, n) }
void ember_tanh_f32(const float *x, float *y, long n) { DISPATCH(tanh, x, y, n) }
void ember_sigmoid_f32(const float *x, float *y, long n) { DISPATCH(sigmoid, x, y, n) }
void ember_relu_f32(const float *x, float *y, long n) { DISPATCH(relu, x, y, n) }
void ember_sqrt_f32(const float *x, float *y, long n) { DISPATCH(sqrt, x, y, n) }
void ember_erf_f32(const float *x, float *y, long n) { DISPATCH(erf, x, y, n) }
void ember_gelu_f32(const float *x, float *y, long n) { DISPATCH(gelu, x, y, n) }
void ember_normalize_rows_f32(const float *x, float *y, float *mean, float *rstd, long rows, long columns, float eps) {
    DISPATCH(normalize_rows, x, y, mean, rstd, rows, columns, eps)
}
void ember_normalize_rows_backward_f32(const float *x, const float *g, const float *mean, const float *rstd, float *dx,
                                       long rows, long columns) {
    DISPATCH(normalize_rows_backward, x, g, mean, rstd, dx, rows, columns)
}
void ember_lstm_cell_f32(const ember_lstm_cell_args *args) { DISPATCH(lstm_cell, args) }
void ember_lstm_cell_backward_f32(const ember_lstm_cell_backward_args *args) { DISPATCH(lstm_cell_backward, args) }
void ember_gelu_backward_f32(const float *x, const float *g, float *y, long n) { DISPATCH(gelu_backward, x, g, y, n) }
void ember_adam_step_f32(const ember_adam_args *args) { DISPATCH(adam_step, args) }
void ember_clamp_f32(const float *x, float *y, long n, float low, float high) { DISPATCH(clamp, x, y, n, low, high) }
void ember_softmax_rows_f32(const float *x, float *y, long rows, long columns, int log_mode) {
    DISPATCH(softmax, x, y, rows, columns, log_mode)
}
float ember_sum_f32(const float *x, long n) { DISPATCH(sum, x, n) }

const char *ember_kernel_isa(void) {
    switch (isa()) {
    case ISA_AVX512: return "avx512";
    case ISA_AVX2: return "avx2";
    default: return "sse2";
    }
}
