// The main ops at the presets' MAE shapes (forward + backward through the tape), with FLOP/s counters,
// and the tape's own cost per recorded op.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include <mae/mae.hpp>

using namespace mae;

namespace {

std::vector<float> random_vector(std::size_t n, std::uint64_t seed) {
  std::vector<float> v(n);
  fill_uniform(v.data(), n, seed, 0);
  for (auto& x : v) x = x * 2 - 1;
  return v;
}

template <std::size_t N, std::size_t In, std::size_t Out>
void BM_linear(benchmark::State& state) {
  const std::size_t batch = static_cast<std::size_t>(state.range(0));
  auto x = random_vector(batch * N * In, 1), w = random_vector(Out * In, 2), b = random_vector(Out, 3);
  std::vector<float> dw(w.size()), db(b.size()), dx(x.size());
  auto dy = random_vector(batch * N * Out, 4);
  Tape<> tape;
  for (auto _ : state) {
    tape.reset();
    auto y = linear(tape, Var<float, Shape<dyn, N, In>>{x.data(), dx.data(), {batch, N, In}},
                    Var<float, Shape<Out, In>>{w.data(), dw.data(), {Out, In}},
                    Var<float, Shape<Out>>{b.data(), db.data(), {Out}});
    tape.backward(y, dy.data());
    benchmark::DoNotOptimize(dx.data());
  }
  const double flops = 6.0 * batch * N * In * Out;  // forward 2, backward 4 (dx and dW)
  state.counters["FLOP/s"] = benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["img/s"] = benchmark::Counter(double(batch), benchmark::Counter::kIsIterationInvariantRate);
}

// One GEMM C[M, N] = op(A) op(B) as the backend runs it (all threads), args: transA, transB, M, N, K.
void BM_gemm(benchmark::State& state) {
  const bool ta = state.range(0), tb = state.range(1);
  const auto M = static_cast<std::size_t>(state.range(2)), N = static_cast<std::size_t>(state.range(3)),
             K = static_cast<std::size_t>(state.range(4));
  auto a = random_vector(M * K, 1), b = random_vector(K * N, 2);
  std::vector<float> c(M * N);
  for (auto _ : state) {
    cpu::gemm(ta, tb, M, N, K, 1.0f, a.data(), ta ? M : K, b.data(), tb ? K : N, 0.0f, c.data(), N);
    benchmark::DoNotOptimize(c.data());
  }
  state.counters["FLOP/s"] = benchmark::Counter(2.0 * M * N * K, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(cpu::detail::avx512_gemm_active() ? "AVX-512 kernel" : "Eigen GEBP");
}

template <std::size_t N, std::size_t D, std::size_t Heads>
void BM_attention(benchmark::State& state) {
  const std::size_t batch = static_cast<std::size_t>(state.range(0));
  auto qkv = random_vector(batch * N * 3 * D, 1), dy = random_vector(batch * N * D, 2);
  std::vector<float> dqkv(qkv.size());
  Tape<> tape;
  for (auto _ : state) {
    tape.reset();
    auto y = attention<Heads>(tape, Var<float, Shape<dyn, N, 3 * D>>{qkv.data(), dqkv.data(), {batch, N, 3 * D}});
    tape.backward(y, dy.data());
    benchmark::DoNotOptimize(dqkv.data());
  }
  const double flops = 3.0 * 4.0 * batch * N * N * D;  // qkᵀ and pv: 2·N·N·D each forward; backward twice that
  state.counters["FLOP/s"] = benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate);
}

template <std::size_t N, std::size_t D>
void BM_layernorm(benchmark::State& state) {
  const std::size_t batch = static_cast<std::size_t>(state.range(0));
  auto x = random_vector(batch * N * D, 1), w = random_vector(D, 2), b = random_vector(D, 3),
       dy = random_vector(batch * N * D, 4);
  std::vector<float> dx(x.size()), dw(D), db(D);
  Tape<> tape;
  for (auto _ : state) {
    tape.reset();
    auto y = layer_norm(tape, Var<float, Shape<dyn, N, D>>{x.data(), dx.data(), {batch, N, D}},
                        Var<float, Shape<D>>{w.data(), dw.data(), {D}}, Var<float, Shape<D>>{b.data(), db.data(), {D}},
                        1e-6f);
    tape.backward(y, dy.data());
  }
  state.counters["bytes/s"] = benchmark::Counter(4.0 * 5 * batch * N * D, benchmark::Counter::kIsIterationInvariantRate);
}

template <std::size_t N, std::size_t D>
void BM_gelu(benchmark::State& state) {
  const std::size_t batch = static_cast<std::size_t>(state.range(0));
  auto x = random_vector(batch * N * D, 1), dy = random_vector(batch * N * D, 2);
  std::vector<float> dx(x.size());
  Tape<> tape;
  for (auto _ : state) {
    tape.reset();
    auto y = gelu(tape, Var<float, Shape<dyn, N, D>>{x.data(), dx.data(), {batch, N, D}});
    tape.backward(y, dy.data());
  }
  state.counters["elements/s"] = benchmark::Counter(double(batch * N * D), benchmark::Counter::kIsIterationInvariantRate);
}

// Tape overhead: 1000 recorded adds on one-element values, forward + backward + reset, per op.
void BM_tape_overhead_per_op(benchmark::State& state) {
  float a = 1, b = 2, da = 0, db = 0;
  Tape<> tape;
  constexpr int ops = 1000;
  for (auto _ : state) {
    tape.reset();
    Var<float, Shape<1>> x{&a, &da, {1}};
    const Var<float, Shape<1>> y{&b, &db, {1}};
    for (int i = 0; i < ops; ++i) x = add(tape, x, y);
    tape.backward(sum(tape, x));
  }
  state.SetItemsProcessed(state.iterations() * ops);  // ops per second; the time per op is its inverse
}

}  // namespace

// fmnist-tiny, batch 128: encoder 13 tokens (D 128), decoder 50 tokens (D 64).
// fmnist-tiny's encoder qkv at batch 128 (y = x·Wᵀ, dx = dy·W, dW = dyᵀ·x) and at batch 1, and its fc2 at batch 1.
BENCHMARK(BM_gemm)->Name("gemm/fmnist/qkv_forward")->Args({0, 1, 1664, 384, 128})->UseRealTime();
BENCHMARK(BM_gemm)->Name("gemm/fmnist/qkv_dx")->Args({0, 0, 1664, 128, 384})->UseRealTime();
BENCHMARK(BM_gemm)->Name("gemm/fmnist/qkv_dw")->Args({1, 0, 384, 128, 1664})->UseRealTime();
// The weight gradients of fc1, fc2 and the decoder's fc1: dYᵀ read with row strides of 2 KB, 512 B and 1 KB.
BENCHMARK(BM_gemm)->Name("gemm/fmnist/fc1_dw")->Args({1, 0, 512, 128, 1664})->UseRealTime();
BENCHMARK(BM_gemm)->Name("gemm/fmnist/fc2_dw")->Args({1, 0, 128, 512, 1664})->UseRealTime();
BENCHMARK(BM_gemm)->Name("gemm/fmnist/dec_fc1_dw")->Args({1, 0, 256, 64, 6400})->UseRealTime();
// cifar-vit-tiny at batch 64 (17 visible tokens of width 192, decoder 65 tokens of width 128): qkv forward and the
// weight gradients of qkv, fc1 and the decoder's fc1, whose dYᵀ rows lie 2.3 KB, 3 KB and 2 KB apart.
BENCHMARK(BM_gemm)->Name("gemm/cifar/qkv_forward")->Args({0, 1, 1088, 576, 192})->UseRealTime();
BENCHMARK(BM_gemm)->Name("gemm/cifar/qkv_dw")->Args({1, 0, 576, 192, 1088})->UseRealTime();
BENCHMARK(BM_gemm)->Name("gemm/cifar/fc1_dw")->Args({1, 0, 768, 192, 1088})->UseRealTime();
BENCHMARK(BM_gemm)->Name("gemm/cifar/dec_fc1_dw")->Args({1, 0, 512, 128, 4160})->UseRealTime();
BENCHMARK(BM_gemm)->Name("gemm/fmnist/qkv_forward_b1")->Args({0, 1, 50, 384, 128})->UseRealTime();
BENCHMARK(BM_gemm)->Name("gemm/fmnist/fc2_forward_b1")->Args({0, 1, 50, 128, 512})->UseRealTime();

BENCHMARK(BM_linear<13, 128, 384>)->Name("linear/fmnist/enc_qkv")->Arg(128)->UseRealTime();
BENCHMARK(BM_linear<13, 128, 512>)->Name("linear/fmnist/enc_fc1")->Arg(128)->UseRealTime();
BENCHMARK(BM_linear<50, 64, 256>)->Name("linear/fmnist/dec_fc1")->Arg(128)->UseRealTime();
BENCHMARK(BM_attention<13, 128, 4>)->Name("attention/fmnist/enc")->Arg(128)->UseRealTime();
BENCHMARK(BM_attention<50, 64, 4>)->Name("attention/fmnist/dec")->Arg(128)->UseRealTime();
BENCHMARK(BM_layernorm<13, 128>)->Name("layernorm/fmnist/enc")->Arg(128)->UseRealTime();
BENCHMARK(BM_gelu<13, 512>)->Name("gelu/fmnist/enc_mlp")->Arg(128)->UseRealTime();
// cifar-vit-tiny, batch 64: encoder 17 tokens (D 192), decoder 65 tokens (D 128).
BENCHMARK(BM_linear<17, 192, 576>)->Name("linear/cifar/enc_qkv")->Arg(64)->UseRealTime();
BENCHMARK(BM_linear<65, 128, 512>)->Name("linear/cifar/dec_fc1")->Arg(64)->UseRealTime();
BENCHMARK(BM_attention<17, 192, 3>)->Name("attention/cifar/enc")->Arg(64)->UseRealTime();
BENCHMARK(BM_attention<65, 128, 4>)->Name("attention/cifar/dec")->Arg(64)->UseRealTime();
// mae_vit_base_patch16, batch 8: encoder 50 tokens (D 768), decoder 197 tokens (D 512).
BENCHMARK(BM_linear<50, 768, 2304>)->Name("linear/base/enc_qkv")->Arg(8)->UseRealTime();
BENCHMARK(BM_linear<197, 512, 2048>)->Name("linear/base/dec_fc1")->Arg(8)->UseRealTime();
BENCHMARK(BM_attention<50, 768, 12>)->Name("attention/base/enc")->Arg(8)->UseRealTime();
BENCHMARK(BM_attention<197, 512, 16>)->Name("attention/base/dec")->Arg(8)->UseRealTime();
BENCHMARK(BM_layernorm<197, 512>)->Name("layernorm/base/dec")->Arg(8)->UseRealTime();
BENCHMARK(BM_gelu<197, 2048>)->Name("gelu/base/dec_mlp")->Arg(8)->UseRealTime();
BENCHMARK(BM_tape_overhead_per_op)->Name("tape/overhead_per_op");

BENCHMARK_MAIN();
