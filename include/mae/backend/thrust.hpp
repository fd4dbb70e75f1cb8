#pragma once
// The Thrust backend on Thrust's host systems: backends::thrust<thrust::system::omp::tag> (OpenMP threads) and
// backends::thrust<thrust::system::cpp::tag> (serial). Every kernel is a Thrust algorithm over MAE_HD functors
// (mae/backend/thrust/), the same templates the CUDA backend runs on the GPU (mae/backend/cuda.hpp).
// Memory is aligned host memory, so host-side code (initialisation, checkpoints, reading the loss) works as on
// backends::cpu; GEMMs use the CPU backend's Eigen GEMM.
//
// Build: any Thrust header needs THRUST_DEVICE_SYSTEM when compiled by a plain C++ compiler, e.g.
// -DTHRUST_DEVICE_SYSTEM=THRUST_DEVICE_SYSTEM_OMP (mae's tests use Debian's Thrust 1.17 under g++; CUDA 13's
// CCCL 3.0 Thrust works the same).
#include <cstddef>

#include "mae/backend/thrust/host_system.hpp"
#include "mae/backend/thrust/kernels.hpp"
#include "mae/core/backend.hpp"

namespace mae {

namespace backends {
template <class System>
struct thrust {};
using thrust_omp = thrust<::thrust::system::omp::tag>;
using thrust_cpp = thrust<::thrust::system::cpp::tag>;
}  // namespace backends

template <class System>
struct backend_traits<backends::thrust<System>> {
  static_assert(thrust_backend::is_host_system<System>,
                "backends::thrust<System>: System must be a Thrust host system tag (cpp or omp); "
                "for CUDA use backends::cuda");
  static constexpr bool host_accessible = true;
  static constexpr std::size_t alignment = backend_traits<backends::cpu>::alignment;
  static void* allocate(std::size_t bytes) { return backend_traits<backends::cpu>::allocate(bytes); }
  static void deallocate(void* p) noexcept { backend_traits<backends::cpu>::deallocate(p); }
  static void discard(void* p, std::size_t bytes) noexcept { backend_traits<backends::cpu>::discard(p, bytes); }
};

template <class System>
struct kernels<backends::thrust<System>>
    : thrust_backend::kernels<thrust_backend::host_system<System>, kernels<backends::thrust<System>>> {};

}  // namespace mae
