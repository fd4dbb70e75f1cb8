#pragma once
// Umbrella header: the whole library on the CPU backend. (Thrust and CUDA backends: include
// mae/backend/thrust.hpp or mae/backend/cuda.hpp as well.)
#include "mae/version.hpp"

// core: shapes, tensors, expressions, RNG
#include "mae/core/error.hpp"
#include "mae/core/shape.hpp"
#include "mae/core/backend.hpp"
#include "mae/core/tensor.hpp"
#include "mae/core/views.hpp"
#include "mae/core/inline_tensor.hpp"
#include "mae/core/expr.hpp"
#include "mae/core/reduce.hpp"
#include "mae/core/matmul.hpp"
#include "mae/core/philox.hpp"
#include "mae/core/masking.hpp"

// autograd: tape and the differentiable op set
#include "mae/autograd/tape.hpp"
#include "mae/autograd/ops.hpp"

// backends
#include "mae/backend/cpu.hpp"

// nn and models
#include "mae/nn/block.hpp"
#include "mae/models/config.hpp"
#include "mae/models/mae.hpp"
#include "mae/models/visualize.hpp"

// optimisation and I/O
#include "mae/optim/adamw.hpp"
#include "mae/optim/pretrain.hpp"
#include "mae/io/safetensors.hpp"
#include "mae/io/checkpoint.hpp"
#include "mae/io/idx.hpp"
#include "mae/io/png.hpp"
