#pragma once
// Token-axis ops on (batch, tokens, D) values: the plumbing of masking, the cls token and the decoder's
// mask tokens. The backward of a gather is a scatter-add by the same indices (for a permutation: the gather by
// its inverse), so no atomics are needed and results do not depend on thread count.
#include <cstdint>

#include "mae/autograd/tape.hpp"

namespace mae {

// Token counts are static where they can be; an extent `dyn` takes its value from the run-time argument.
inline std::size_t token_count(std::size_t static_count, std::size_t runtime_count, const char* op) {
  MAE_CHECK(runtime_count != dyn, std::string(op) + ": a dynamic token extent needs its run-time count");
  MAE_CHECK(static_count == dyn || static_count == runtime_count,
            std::string(op) + ": token count " + std::to_string(runtime_count) + " does not match the static " +
                std::to_string(static_count));
  return runtime_count;
}

// y[b, k] = x[b, idx[b * nout + k]]
template <std::size_t Nout, class T, std::size_t Bt, std::size_t N, std::size_t D, class B>
Var<T, Shape<Bt, Nout, D>, B> gather_tokens(Tape<B>& tape, Var<T, Shape<Bt, N, D>, B> x, const std::int32_t* idx,
                                            std::size_t nout = Nout) {
  token_count(Nout, nout, "gather_tokens");
  const std::size_t batch = x.dims[0];
  auto y = tape.template output<T, Shape<Bt, Nout, D>>({batch, nout, D}, x);
  kernels<B>::gather_tokens(x.value, idx, y.value, batch, x.dims[1], nout, D);
  if (y.grad) {
    struct Node {
      Var<T, Shape<Bt, N, D>, B> x;
      const std::int32_t* idx;
      const T* dy;
      std::size_t nout;
      void backward() const { kernels<B>::scatter_add_tokens(dy, idx, x.grad, x.dims[0], x.dims[1], nout, D); }
    };
    tape.record(Node{x, idx, y.grad, nout});
  }
  tape.check("gather_tokens", y);
  return y;
}

// Tokens [begin, begin + count) of every sample.
template <std::size_t Count, class T, std::size_t Bt, std::size_t N, std::size_t D, class B>
Var<T, Shape<Bt, Count, D>, B> slice_tokens(Tape<B>& tape, Var<T, Shape<Bt, N, D>, B> x, std::size_t begin,
                                            std::size_t count = Count) {
  token_count(Count, count, "slice_tokens");
  const std::size_t batch = x.dims[0], n = x.dims[1];
  MAE_CHECK(begin + count <= n, "slice_tokens: tokens [" + std::to_string(begin) + ", " +
                                    std::to_string(begin + count) + ") of " + to_string(x.dims));
  auto y = tape.template output<T, Shape<Bt, Count, D>>({batch, count, D}, x);
  kernels<B>::copy_blocks(x.value + begin * D, n * D, y.value, count * D, count * D, batch);
  if (y.grad) {
    struct Node {
      T* dx;
      const T* dy;
      std::size_t n, begin, count, batch;
      void backward() const { kernels<B>::accumulate_blocks(dy, count * D, dx + begin * D, n * D, count * D, batch); }
    };
    tape.record(Node{x.grad, y.grad, n, begin, count, batch});
  }
  return y;
}

template <std::size_t Na, std::size_t Nb>
inline constexpr std::size_t concat_extent = (Na == dyn || Nb == dyn) ? dyn : Na + Nb;

// [a, b] along the token axis.
template <class T, std::size_t Bt, std::size_t Na, std::size_t Nb, std::size_t D, class B>
Var<T, Shape<Bt, concat_extent<Na, Nb>, D>, B> concat_tokens(Tape<B>& tape, Var<T, Shape<Bt, Na, D>, B> a,
                                                             Var<T, Shape<Bt, Nb, D>, B> b) {
  const std::size_t batch = a.dims[0], na = a.dims[1], nb = b.dims[1], n = na + nb;
  MAE_CHECK(b.dims[0] == batch, "concat_tokens: batch sizes of " + to_string(a.dims) + " and " + to_string(b.dims) +
                                    " differ");
  auto y = tape.template output<T, Shape<Bt, concat_extent<Na, Nb>, D>>({batch, n, D}, a, b);
  kernels<B>::copy_blocks(a.value, na * D, y.value, n * D, na * D, batch);
  kernels<B>::copy_blocks(b.value, nb * D, y.value + na * D, n * D, nb * D, batch);
  if (y.grad) {
    struct Node {
      T *da, *db;
      const T* dy;
      std::size_t batch, na, nb;
      void backward() const {
        const std::size_t n = na + nb;
        if (da) kernels<B>::accumulate_blocks(dy, n * D, da, na * D, na * D, batch);
        if (db) kernels<B>::accumulate_blocks(dy + na * D, n * D, db, nb * D, nb * D, batch);
      }
    };
    tape.record(Node{a.grad, b.grad, y.grad, batch, na, nb});
  }
  return y;
}

// `count` copies of one token (1, 1, D) for each of `batch` samples: the cls and mask tokens.
template <std::size_t Count, std::size_t Bt = dyn, class T, std::size_t D, class B>
Var<T, Shape<Bt, Count, D>, B> expand_token(Tape<B>& tape, Var<T, Shape<1, 1, D>, B> token, std::size_t batch,
                                            std::size_t count = Count) {
  token_count(Count, count, "expand_token");
  auto y = tape.template output<T, Shape<Bt, Count, D>>({batch, count, D}, token);
  kernels<B>::copy_blocks(token.value, 0, y.value, D, D, batch * count);
  if (y.grad) {
    struct Node {
      T* dtoken;
      const T* dy;
      std::size_t rows;
      void backward() const { kernels<B>::sum_outer_accumulate(dy, dtoken, rows, D); }
    };
    tape.record(Node{token.grad, y.grad, batch * count});
  }
  return y;
}

}  // namespace mae
