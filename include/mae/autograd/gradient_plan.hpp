#pragma once
// Where the gradients of op outputs live. Each is needed from the backward of the last op reading it (its first
// write) down to its producer's backward (its last read); buffers whose lives do not overlap can share memory.
// Lives are known only once the forward pass is over, but a node keeps its gradient pointers from the forward
// pass, so the placement is planned from the previous step: training records the same graph every step. A step
// that leaves the plan (another batch size, another graph) takes fresh memory from where it leaves it, and
// plans again; sharing already handed out is checked against the lives that step really had.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <vector>

#include "mae/autograd/arena.hpp"
#include "mae/core/error.hpp"

namespace mae {

// One gradient buffer's life in node indices: written first by node last_reader's backward (the largest value:
// seeded by the caller of backward, so from the start), read last by node producer's.
struct GradientLife {
  std::size_t bytes, producer, last_reader;
  bool operator==(const GradientLife&) const = default;
  bool overlaps(const GradientLife& o) const noexcept {
    return !(last_reader < o.producer || o.last_reader < producer);
  }
};

template <class B>
class GradientPlan {
 public:
  GradientPlan() = default;
  GradientPlan(const GradientPlan&) = delete;
  GradientPlan& operator=(const GradientPlan&) = delete;
  ~GradientPlan() {
    if (region_) backend_traits<B>::deallocate(region_);
  }

  // Memory for buffer k of this step, created now (its last reader is not known yet).
  std::byte* place(std::size_t k, const GradientLife& life) {
    following_ = following_ && k < planned_.size() && planned_[k].bytes == life.bytes &&
                 planned_[k].producer == life.producer;
    if (following_) {
      placed_ = k + 1;
      return region_ + offsets_[k];
    }
    fresh_used_ = true;
    return static_cast<std::byte*>(fresh_.allocate(life.bytes));
  }

  // Called once the forward pass is over, with this step's lives: a step that kept to the plan is done; any
  // other is planned anew, and throws if two buffers it took from the old plan overlap in both memory and life
  // (the new plan stands, so the next step of this graph runs).
  void settle(const std::vector<GradientLife>& lives) {
    if (lives == planned_) return;
    bool clash = false;
    for (std::size_t i = 0; i < placed_; ++i)
      for (std::size_t j = i + 1; j < placed_; ++j)
        clash = clash || (lives[i].overlaps(lives[j]) && offsets_[i] < offsets_[j] + lives[j].bytes &&
                          offsets_[j] < offsets_[i] + lives[i].bytes);
    planned_ = lives;
    plan();
    MAE_CHECK(!clash, "Tape: this step's graph left the previous step's where two gradients planned to share "
                      "memory are both still needed; record different graphs on different tapes");
  }

  // A new step: the region grows to the plan's size if needed; fresh memory nobody used is given back.
  void reset() {
    if (bytes_ > capacity_) {
      if (region_) backend_traits<B>::deallocate(region_);
      region_ = static_cast<std::byte*>(backend_traits<B>::allocate(bytes_));
      capacity_ = bytes_;
      ++allocations_;
    }
    if (fresh_used_) fresh_.reset();
    else fresh_.free_memory();
    following_ = !planned_.empty();
    fresh_used_ = false;
    placed_ = 0;
  }

  std::size_t backend_allocations() const { return allocations_ + fresh_.backend_allocations(); }
  std::size_t planned_bytes() const noexcept { return bytes_; }
  std::size_t placed() const noexcept { return placed_; }  // this step's buffers [0, placed) are the plan's

 private:
  // Largest buffers first, each at the lowest offset clear of the placed buffers whose lives overlap its own.
  void plan() {
    const std::size_t n = planned_.size();
    std::vector<std::uint32_t> order(n);
    std::iota(order.begin(), order.end(), 0u);
    std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
      return planned_[a].bytes != planned_[b].bytes ? planned_[a].bytes > planned_[b].bytes : a < b;
    });
    offsets_.assign(n, 0);
    bytes_ = 0;
    std::vector<std::pair<std::size_t, std::size_t>> taken;
    for (std::size_t i = 0; i < n; ++i) {
      const auto& life = planned_[order[i]];
      taken.clear();
      for (std::size_t j = 0; j < i; ++j)
        if (planned_[order[j]].overlaps(life))
          taken.emplace_back(offsets_[order[j]], offsets_[order[j]] + planned_[order[j]].bytes);
      std::sort(taken.begin(), taken.end());
      std::size_t offset = 0;
      for (const auto& [begin, end] : taken) {
        if (offset + life.bytes <= begin) break;
        offset = std::max(offset, end);
      }
      offsets_[order[i]] = offset;
      bytes_ = std::max(bytes_, offset + life.bytes);
    }
  }

  std::vector<GradientLife> planned_;
  std::vector<std::size_t> offsets_;
  std::size_t bytes_ = 0, capacity_ = 0, placed_ = 0, allocations_ = 0;
  std::byte* region_ = nullptr;
  Arena<B> fresh_;
  bool following_ = false, fresh_used_ = false;
};

}  // namespace mae
