#pragma once
// The tape: a forward pass records one node per differentiable op; backward() replays them in reverse.
// Nodes and activations live in arenas that are reused from step to step (no heap traffic once warm).
// With recording off the same forward code runs as plain inference: no gradients, no nodes.
#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "mae/autograd/arena.hpp"
#include "mae/autograd/gradient_plan.hpp"
#include "mae/autograd/var.hpp"

namespace mae {

template <class B = backends::cpu>
class Tape {
 public:
  explicit Tape(bool recording = true) : recording_(recording) { nodes_.reserve(1024); }
  Tape(const Tape&) = delete;
  Tape& operator=(const Tape&) = delete;

  bool recording() const noexcept { return recording_; }
  // Recording again ends frozen weights (see below): training changes the weights.
  void set_recording(bool on) noexcept {
    recording_ = on;
    if (on) thaw_weights();
  }

  // Frozen weights, for inference (recording off): each linear layer's weight is packed for the GEMM kernel on
  // its first forward and that packing is reused by every later forward of the same shape, instead of being
  // redone each time (a fifth of a batch-1 forward on the CPU). It is a snapshot of the weights, found by
  // address: after changing or replacing them (an optimizer step, a loaded checkpoint, another model at the
  // same address), call freeze_weights() again, which drops it, or thaw_weights(). Results are bit-identical
  // to unfrozen forwards. Backends without a packed GEMM (Thrust, CUDA) keep nothing.
  void freeze_weights() {
    MAE_CHECK(!recording_, "Tape::freeze_weights: weights can only be frozen on an inference tape (recording off)");
    weight_cache_.clear();
    frozen_ = true;
  }
  void thaw_weights() noexcept {
    weight_cache_.clear();
    frozen_ = false;
  }
  // The packed weights when they are frozen, else null.
  typename kernels<B>::weight_cache* frozen_weights() noexcept { return frozen_ ? &weight_cache_ : nullptr; }

  // Opt-in check mode: every op's output is scanned and the first non-finite one is named with its module path.
  void set_check_finite(bool on) noexcept { check_finite_ = on; }

  template <class T>
  T* alloc(std::size_t n) { return static_cast<T*>(data_.allocate(n * sizeof(T))); }

  // Working memory that only the backward of the node recorded next uses. One node's backward runs at a time,
  // so all nodes share one region: a step's scratch costs its largest node's, not the sum over nodes.
  template <class T>
  T* scratch(std::size_t n) {
    if (scratch_node_ != nodes_.size()) {
      scratch_.rewind();
      scratch_node_ = nodes_.size();
    }
    return static_cast<T*>(scratch_.allocate(n * sizeof(T)));
  }

  // The output of an op that reads `inputs`. When recording and one of them needs a gradient, it gets a gradient
  // buffer: backward's working memory, live from the backward of the last op reading it down to its producer's.
  // Buffers whose lives do not overlap share memory, placed by a plan made from the previous step (steps record
  // the same graph); each is zeroed just before its first write. Read parameters' gradients after backward,
  // not these.
  template <class T, class S, class... Inputs>
  Var<T, S, B> output(const dims_t<S>& dims, const Inputs&... inputs) {
    Var<T, S, B> v{alloc<T>(product(dims)), nullptr, resolve_dims<S>(dims, "Tape::output")};
    if (!recording_ || !(false || ... || inputs.requires_grad())) return v;
    (read(inputs.slot), ...);
    v.slot = static_cast<std::uint32_t>(lives_.size());
    v.grad = reinterpret_cast<T*>(gradient_buffer(v.size() * sizeof(T)));
    return v;
  }

  template <class Node>
  void record(const Node& node) {
    static_assert(std::is_trivially_destructible_v<Node>, "tape nodes are never destroyed: keep them trivial");
    auto* slot = static_cast<Entry<Node>*>(nodes_arena_.allocate(sizeof(Entry<Node>)));
    ::new (slot) Entry<Node>{{&Entry<Node>::run}, node};
    nodes_.push_back(slot);
  }

  // Seeds d(loss)/d(loss) = seed (1, or 1/accum_iter under gradient accumulation) and runs every recorded
  // node in reverse order.
  template <class T>
  void backward(Var<T, Shape<>, B> loss, T seed = T(1)) {
    MAE_CHECK(loss.grad, "Tape::backward: the loss does not depend on any parameter (nothing was recorded)");
    begin_backward(loss.slot);
    kernels<B>::fill(loss.grad, 1, seed);
    run_backward();
  }
  // Backward from any output with a given output gradient dy (gradchecks, op-level comparisons).
  template <class T, class S>
  void backward(Var<T, S, B> out, const T* dy) {
    MAE_CHECK(out.grad, "Tape::backward: the output does not depend on anything that needs a gradient");
    begin_backward(out.slot);
    kernels<B>::copy(dy, out.grad, out.size());
    run_backward();
  }

  // Forget all nodes and activations; their memory is kept for the next step.
  void reset() {
    nodes_.clear();
    nodes_arena_.reset();
    data_.reset();
    scratch_.reset();
    scratch_node_ = no_node;
    grads_.reset();
    backward_done_ = false;
    lives_.clear();
    grad_ptrs_.clear();
  }

  std::size_t node_count() const noexcept { return nodes_.size(); }
  // Memory the gradients of op outputs need, as planned from the last backward; the sum of their sizes without
  // sharing, for comparison.
  std::size_t planned_gradient_bytes() const noexcept { return grads_.planned_bytes(); }
  std::size_t gradient_bytes() const noexcept {
    std::size_t total = 0;
    for (const auto& life : lives_) total += life.bytes;
    return total;
  }
  std::size_t backend_allocations() const {
    return data_.backend_allocations() + scratch_.backend_allocations() + grads_.backend_allocations() +
           nodes_arena_.backend_allocations();
  }

  // Module path for messages, e.g. "blocks.3.attn". Pushed by modules with an RAII guard; costs nothing else.
  class ScopeGuard {
   public:
    ScopeGuard(Tape& t, const char* name, int index) : t_(t) {
      if (t_.depth_ < t_.scope_.size()) t_.scope_[t_.depth_] = {name, index};
      ++t_.depth_;
    }
    ~ScopeGuard() { --t_.depth_; }
    ScopeGuard(const ScopeGuard&) = delete;
    ScopeGuard& operator=(const ScopeGuard&) = delete;

   private:
    Tape& t_;
  };
  ScopeGuard scope(const char* name, int index = -1) { return ScopeGuard(*this, name, index); }

  std::string module_path() const {
    std::string p;
    for (std::size_t i = 0; i < depth_ && i < scope_.size(); ++i) {
      if (!p.empty()) p += '.';
      p += scope_[i].first;
      if (scope_[i].second >= 0) p += '.' + std::to_string(scope_[i].second);
    }
    return p;
  }

  // Called by every op on its output.
  template <class T, class S>
  void check(const char* op, const Var<T, S, B>& out) const {
    if (check_finite_ && !kernels<B>::all_finite(out.value, out.size()))
      throw error("non-finite value in the output of " + std::string(op) +
                  (depth_ ? " at " + module_path() : std::string()) + ", shape " + to_string(out.dims));
  }

 private:
  struct EntryBase {
    void (*run)(EntryBase*);
  };
  template <class Node>
  struct Entry : EntryBase {
    Node node;
    static void run(EntryBase* e) { static_cast<Entry*>(e)->node.backward(); }
  };

  bool recording_;
  bool check_finite_ = false;
  bool frozen_ = false;
  typename kernels<B>::weight_cache weight_cache_;
  static constexpr std::size_t no_node = ~std::size_t{0};

  void read(std::uint32_t slot) {
    if (slot != no_slot) lives_[slot].last_reader = nodes_.size();
  }
  std::byte* gradient_buffer(std::size_t bytes) {
    const GradientLife life{Arena<B>::aligned(bytes), nodes_.size(), no_node};
    grad_ptrs_.push_back(grads_.place(lives_.size(), life));
    lives_.push_back(life);
    return grad_ptrs_.back();
  }

  // Settles this step's gradient memory (GradientPlan) and zeroes the buffers live from the start: those no op
  // reads, and the one backward starts from (seeded by the caller).
  void begin_backward(std::uint32_t seeded) {
    MAE_CHECK(!backward_done_, "Tape::backward: this recording has already been run backward (its nodes reuse "
                               "their saved values); reset() and record the step again");
    backward_done_ = true;
    if (seeded != no_slot) lives_[seeded].last_reader = no_node;
    grads_.settle(lives_);
    zero_order_.resize(lives_.size());
    for (std::uint32_t k = 0; k < zero_order_.size(); ++k) zero_order_[k] = k;
    std::sort(zero_order_.begin(), zero_order_.end(),
              [&](std::uint32_t a, std::uint32_t b) { return lives_[a].last_reader > lives_[b].last_reader; });
    next_zero_ = 0;
    zero_until(nodes_.size());
  }
  // Zeroes the gradient buffers first written by node i or a later one (as floats whatever T is: sizes are whole
  // multiples of the alignment, and zero is all-zero bits).
  void zero_until(std::size_t i) {
    for (; next_zero_ < zero_order_.size() && lives_[zero_order_[next_zero_]].last_reader >= i; ++next_zero_) {
      const std::uint32_t k = zero_order_[next_zero_];
      kernels<B>::zero(reinterpret_cast<float*>(grad_ptrs_[k]), lives_[k].bytes / sizeof(float));
    }
  }
  // Gradients outside the plan (a step that has none yet, or left it) are dead once their producer's backward
  // has run: their pages are given back, so such a step holds no more gradient memory than a planned one.
  void run_backward() {
    std::size_t live = lives_.size();
    for (std::size_t i = nodes_.size(); i-- > 0;) {
      zero_until(i);
      nodes_[i]->run(nodes_[i]);
      for (; live > grads_.placed() && lives_[live - 1].producer >= i; --live)
        backend_traits<B>::discard(grad_ptrs_[live - 1], lives_[live - 1].bytes);
    }
  }

  Arena<B> data_, scratch_;
  std::size_t scratch_node_ = no_node;
  GradientPlan<B> grads_;
  std::vector<GradientLife> lives_;  // this step's gradient buffers, in creation order
  std::vector<std::byte*> grad_ptrs_;
  std::vector<std::uint32_t> zero_order_;  // buffers by first write, last node first
  std::size_t next_zero_ = 0;
  bool backward_done_ = false;
  Arena<backends::cpu> nodes_arena_;
  std::vector<EntryBase*> nodes_;
  std::array<std::pair<const char*, int>, 8> scope_{};
  std::size_t depth_ = 0;
};

}  // namespace mae
