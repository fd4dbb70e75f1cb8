// Compile-only check that mae's headers and the mae::cuda target build under nvcc in C++20 mode.
#include <mae/mae.hpp>

#include <cuda_runtime.h>

#include <concepts>
#include <cstdio>

static_assert(__cplusplus >= 202002L, "nvcc must compile mae in C++20 mode (see -std=c++20 in CMake)");

template <std::floating_point T>
__global__ void scale(T* data, T factor, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) data[i] *= factor;
}

int main() {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    std::printf("mae %s: no CUDA device\n", mae::version_string);
    return 0;
  }
  float* data = nullptr;
  if (cudaMalloc(&data, 32 * sizeof(float)) != cudaSuccess) return 1;
  scale<<<1, 32>>>(data, 2.0f, 32);
  const bool ok = cudaDeviceSynchronize() == cudaSuccess;
  cudaFree(data);
  std::printf("mae %s: kernel %s on %d device(s)\n", mae::version_string, ok ? "ran" : "failed", devices);
  return ok ? 0 : 1;
}
