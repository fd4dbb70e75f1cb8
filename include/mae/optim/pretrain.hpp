#pragma once
// One pretraining iteration, top to bottom: forward (masking noise drawn for this iteration), backward,
// and every accum_iter iterations an optional gradient clip and an AdamW step. A non-finite loss stops
// training with the iteration and, found by replaying the forward in check mode, the first op that
// produced a non-finite value.
#include <cmath>
#include <string>

#include "mae/optim/adamw.hpp"

namespace mae::optim {

template <class Model>
class Pretrainer {
 public:
  using T = typename Model::value_type;
  using B = typename Model::backend;

  struct Options {
    AdamWConfig adamw{};
    int accum_iter = 1;
    double clip_grad = 0.0;  // 0: no clipping
  };

  Pretrainer(Model& model, Options opt) : model_(model), opt_(opt), adamw_(model, opt.adamw) {
    MAE_CHECK(opt.accum_iter >= 1, "Pretrainer: accum_iter must be at least 1");
    adamw_.zero_grad();
  }

  AdamW<T, B>& optimizer() { return adamw_; }
  Tape<B>& tape() { return tape_; }

  // Runs iteration `iter` (which also names its masking noise) on `images` with learning rate `lr`.
  double step(Var<T, typename Model::Images, B> images, std::uint64_t iter, double lr) {
    tape_.reset();
    auto out = model_.forward(tape_, images, nullptr, iter);
    const double loss = kernels<B>::read_scalar(out.loss.value);
    if (!std::isfinite(loss)) throw error(non_finite_message(images, iter, loss));
    tape_.backward(out.loss, T(1) / static_cast<T>(opt_.accum_iter));
    if ((iter + 1) % static_cast<std::uint64_t>(opt_.accum_iter) == 0) {
      if (opt_.clip_grad > 0) adamw_.clip_grad_norm(opt_.clip_grad);
      adamw_.step(lr);
      adamw_.zero_grad();
    }
    return loss;
  }

 private:
  std::string non_finite_message(Var<T, typename Model::Images, B> images, std::uint64_t iter, double loss) {
    std::string where = "no op output was non-finite on replay";
    tape_.reset();
    tape_.set_check_finite(true);
    try {
      model_.forward(tape_, images, nullptr, iter);
    } catch (const error& e) {
      where = e.what();
    }
    tape_.set_check_finite(false);
    tape_.reset();
    return "training stopped at iteration " + std::to_string(iter) + ": the loss is " + std::to_string(loss) +
           " (" + where + ")";
  }

  Model& model_;
  Options opt_;
  AdamW<T, B> adamw_;
  Tape<B> tape_;
};

}  // namespace mae::optim
