#pragma once
// The CPU backend's compute kernels: raw pointers to row-major contiguous arrays, T = float or double.
// Conventions: sizes are std::size_t, indices std::int32_t; backward kernels ACCUMULATE (+=) into their
// gradient outputs; kernels never allocate (the caller owns all memory; GEMM packing uses a per-thread buffer
// that grows on first use only); results are bit-identical for any OpenMP thread count.
#include "mae/backend/cpu/activation.hpp"
#include "mae/backend/cpu/adamw.hpp"
#include "mae/backend/cpu/attention.hpp"
#include "mae/backend/cpu/elementwise.hpp"
#include "mae/backend/cpu/gather.hpp"
#include "mae/backend/cpu/gemm.hpp"
#include "mae/backend/cpu/layernorm.hpp"
#include "mae/backend/cpu/linear.hpp"
#include "mae/backend/cpu/loss.hpp"
#include "mae/backend/cpu/patch.hpp"
