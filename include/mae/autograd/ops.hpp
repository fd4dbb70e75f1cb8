#pragma once
// The differentiable op set: each op runs its forward, saves what its backward needs and records one node.
#include "mae/autograd/ops_activation.hpp"
#include "mae/autograd/ops_attention.hpp"
#include "mae/autograd/ops_elementwise.hpp"
#include "mae/autograd/ops_linear.hpp"
#include "mae/autograd/ops_loss.hpp"
#include "mae/autograd/ops_mlp.hpp"
#include "mae/autograd/ops_norm.hpp"
#include "mae/autograd/ops_patch.hpp"
#include "mae/autograd/ops_tokens.hpp"
