#pragma once
// Losses, each a scalar node: the MAE's masked MSE with per-patch normalised target (MAE_SPEC §6), a masked L1
// (SimMIM) and cross-entropy (probes, fine-tuning).
#include <cstdint>

#include "mae/autograd/tape.hpp"

namespace mae {

// mean over the patch vector of (pred - target)², summed over removed patches (mask 1) / number removed.
// With norm_pix the target is normalised per patch: (t - mean) / sqrt(unbiased var + eps).
template <class T, std::size_t Bt, std::size_t L, std::size_t P, class B>
Var<T, Shape<>, B> masked_mse(Tape<B>& tape, Var<T, Shape<Bt, L, P>, B> pred, Var<T, Shape<Bt, L, P>, B> target,
                              const T* mask, bool norm_pix, T eps = T(1e-6)) {
  const std::size_t batch = pred.dims[0], l = pred.dims[1];
  MAE_CHECK(target.dims == pred.dims,
            "masked_mse: pred " + to_string(pred.dims) + " and target " + to_string(target.dims) + " differ");
  auto loss = tape.template output<T, Shape<>>({}, pred);
  T* target_norm = tape.template alloc<T>(pred.size());
  kernels<B>::masked_mse_forward(pred.value, target.value, mask, target_norm, loss.value, batch, l, P, norm_pix, eps);
  if (loss.grad) {
    struct Node {
      Var<T, Shape<Bt, L, P>, B> pred;
      const T *target_norm, *mask, *dloss;
      void backward() const {
        kernels<B>::masked_mse_backward(pred.value, target_norm, mask, dloss, pred.grad, pred.dims[0], pred.dims[1],
                                        P);
      }
    };
    tape.record(Node{pred, target_norm, mask, loss.grad});
  }
  tape.check("masked_mse", loss);
  return loss;
}

// Σ mask·|pred - target| / (Σ mask · P); a null mask counts every row.
template <class T, std::size_t Bt, std::size_t L, std::size_t P, class B>
Var<T, Shape<>, B> masked_l1(Tape<B>& tape, Var<T, Shape<Bt, L, P>, B> pred, Var<T, Shape<Bt, L, P>, B> target,
                             const T* mask) {
  MAE_CHECK(target.dims == pred.dims,
            "masked_l1: pred " + to_string(pred.dims) + " and target " + to_string(target.dims) + " differ");
  auto loss = tape.template output<T, Shape<>>({}, pred);
  const std::size_t rows = pred.dims[0] * pred.dims[1];
  kernels<B>::l1_forward(pred.value, target.value, mask, loss.value, rows, P);
  if (loss.grad) {
    struct Node {
      Var<T, Shape<Bt, L, P>, B> pred;
      const T *target, *mask, *dloss;
      std::size_t rows;
      void backward() const { kernels<B>::l1_backward(pred.value, target, mask, dloss, pred.grad, rows, P); }
    };
    tape.record(Node{pred, target.value, mask, loss.grad, rows});
  }
  tape.check("masked_l1", loss);
  return loss;
}

// Mean over rows of -log softmax(logits)[label].
template <class T, std::size_t Bt, std::size_t C, class B>
Var<T, Shape<>, B> cross_entropy(Tape<B>& tape, Var<T, Shape<Bt, C>, B> logits, const std::int32_t* labels) {
  const std::size_t rows = logits.dims[0];
  auto loss = tape.template output<T, Shape<>>({}, logits);
  T* probs = tape.template alloc<T>(logits.size());
  kernels<B>::cross_entropy_forward(logits.value, labels, probs, loss.value, rows, C);
  if (loss.grad) {
    struct Node {
      const T* probs;
      const std::int32_t* labels;
      const T* dloss;
      T* dlogits;
      std::size_t rows;
      void backward() const { kernels<B>::cross_entropy_backward(probs, labels, dloss, dlogits, rows, C); }
    };
    tape.record(Node{probs, labels, loss.grad, logits.grad, rows});
  }
  tape.check("cross_entropy", loss);
  return loss;
}

}  // namespace mae
