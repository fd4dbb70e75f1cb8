// The FP32 peak of one core, measured: independent chains of fused multiply-adds, for each vector width this
// CPU runs (AVX2 and, where present, AVX-512). compare_torch.py reads it to state mae's % of peak on the
// machine at hand instead of assuming one. Compiled with per-function target attributes, so the portable
// (x86-64-v3) build measures AVX-512 too and only calls it when the CPU has it.
#include <benchmark/benchmark.h>

#if defined(__x86_64__)
#include <immintrin.h>

namespace {

// 12 independent accumulators: more than FMA latency x pipes (4 x 2), so the FMA units never wait.
constexpr int chains = 12;
constexpr long fmas_per_iteration = 1 << 16;

__attribute__((target("avx2,fma"))) float fma_loop_avx2() {
  __m256 acc[chains];
  for (int c = 0; c < chains; ++c) acc[c] = _mm256_set1_ps(float(c));
  const __m256 a = _mm256_set1_ps(0.999f), b = _mm256_set1_ps(1e-4f);
  for (long i = 0; i < fmas_per_iteration / chains; ++i)
#pragma GCC unroll 12  // keeps every accumulator in a register
    for (int c = 0; c < chains; ++c) acc[c] = _mm256_fmadd_ps(acc[c], a, b);
  for (int c = 1; c < chains; ++c) acc[0] = _mm256_add_ps(acc[0], acc[c]);
  return _mm256_cvtss_f32(acc[0]);
}

__attribute__((target("avx512f"))) float fma_loop_avx512() {
  __m512 acc[chains];
  for (int c = 0; c < chains; ++c) acc[c] = _mm512_set1_ps(float(c));
  const __m512 a = _mm512_set1_ps(0.999f), b = _mm512_set1_ps(1e-4f);
  for (long i = 0; i < fmas_per_iteration / chains; ++i)
#pragma GCC unroll 12  // keeps every accumulator in a register
    for (int c = 0; c < chains; ++c) acc[c] = _mm512_fmadd_ps(acc[c], a, b);
  for (int c = 1; c < chains; ++c) acc[0] = _mm512_add_ps(acc[0], acc[c]);
  return _mm512_reduce_add_ps(acc[0]);
}

template <class Loop>
void measure_peak(benchmark::State& state, bool supported, int lanes, Loop loop) {
  if (!supported) {
    state.SkipWithError("this CPU lacks the instruction set");
    return;
  }
  for (auto _ : state) benchmark::DoNotOptimize(loop());
  const double flops = 2.0 * lanes * double(fmas_per_iteration / chains * chains);
  state.counters["FLOP/s"] = benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_peak_avx2(benchmark::State& state) { measure_peak(state, __builtin_cpu_supports("avx2"), 8, fma_loop_avx2); }
void BM_peak_avx512(benchmark::State& state) {
  measure_peak(state, __builtin_cpu_supports("avx512f"), 16, fma_loop_avx512);
}

}  // namespace

BENCHMARK(BM_peak_avx2)->Name("fp32_peak_one_core/avx2");
BENCHMARK(BM_peak_avx512)->Name("fp32_peak_one_core/avx512");
#endif
