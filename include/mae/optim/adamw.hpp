#pragma once
// AdamW with the MAE pretraining parameter groups (MAE_SPEC §8): decay for ≥2-D tensors (cls and mask tokens
// included), none for biases and norm weights. The step is PyTorch 1.13's single-tensor AdamW, so five steps
// match it to float rounding. The parameter list is flattened once: a step allocates nothing.
#include <cmath>
#include <string>
#include <vector>

#include "mae/autograd/var.hpp"

namespace mae::optim {

struct AdamWConfig {
  double lr = 1.5e-4;
  double beta1 = 0.9, beta2 = 0.95, eps = 1e-8;
  double weight_decay = 0.05;
};

template <class T, class B = backends::cpu>
class AdamW {
 public:
  struct Slot {
    std::string name;
    T* param;
    T* grad;
    std::size_t size;
    bool decay;
    Tensor<T, Shape<dyn>, B> exp_avg, exp_avg_sq;
  };

  template <class Model>
  AdamW(Model& model, AdamWConfig cfg) : cfg_(cfg) {
    model.visit_params([&](const std::string& name, auto& p) {
      Slot s{name, p.value.data(), p.grad.data(), p.value.size(), p.decay, Tensor<T, Shape<dyn>, B>({p.value.size()}),
             Tensor<T, Shape<dyn>, B>({p.value.size()})};
      kernels<B>::zero(s.exp_avg.data(), s.size);
      kernels<B>::zero(s.exp_avg_sq.data(), s.size);
      slots_.push_back(std::move(s));
    });
  }

  const AdamWConfig& config() const { return cfg_; }
  long steps() const { return step_; }
  void set_steps(long s) { step_ = s; }  // restored from a checkpoint
  std::vector<Slot>& slots() { return slots_; }

  void step(double lr) {
    ++step_;
    for (auto& s : slots_)
      kernels<B>::adamw_step(s.param, s.grad, s.exp_avg.data(), s.exp_avg_sq.data(), s.size, lr, cfg_.beta1,
                             cfg_.beta2, cfg_.eps, s.decay ? cfg_.weight_decay : 0.0, step_);
  }
  void step() { step(cfg_.lr); }

  void zero_grad() {
    for (auto& s : slots_) kernels<B>::zero(s.grad, s.size);
  }

  // Global L2 norm of all gradients (double accumulation, fixed order).
  double grad_norm() const {
    double total = 0;
    for (auto& s : slots_) total += kernels<B>::sum_squares(s.grad, s.size);
    return std::sqrt(total);
  }
  // Scales gradients so that their global norm is at most max_norm (as torch.nn.utils.clip_grad_norm_).
  double clip_grad_norm(double max_norm) {
    const double norm = grad_norm(), coef = max_norm / (norm + 1e-6);
    if (coef < 1.0)
      for (auto& s : slots_) kernels<B>::scale(s.grad, static_cast<T>(coef), s.size);
    return norm;
  }

 private:
  AdamWConfig cfg_;
  std::vector<Slot> slots_;
  long step_ = 0;
};

// Learning rate per iteration: linear warmup, then half-cycle cosine to min_lr (epochs may be fractional).
struct WarmupCosine {
  double base_lr, min_lr = 0.0, warmup_epochs = 0.0, epochs = 1.0;
  double operator()(double epoch) const {
    if (epoch < warmup_epochs) return base_lr * epoch / warmup_epochs;
    const double pi = 3.14159265358979323846;
    return min_lr +
           (base_lr - min_lr) * 0.5 * (1.0 + std::cos(pi * (epoch - warmup_epochs) / (epochs - warmup_epochs)));
  }
};

}  // namespace mae::optim
