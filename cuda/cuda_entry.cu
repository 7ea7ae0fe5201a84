// CUDA builds: device discovery and the CudaBackend factory behind backend/cuda_entry.hpp.
#include <cuda_runtime.h>

#include <string>

#include "backend/backend.hpp"
#include "backend/cuda_entry.hpp"
#include "cuda/cuda_backend.cuh"
#include "gpbo/error.hpp"

namespace gpbo::detail {

bool cuda_backend_built() noexcept { return true; }

int cuda_device_count_impl() noexcept {
  int count = 0;
  // Without a driver this returns an error: that means no usable device, not a failure.
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();
    return 0;
  }
  return count;
}

std::unique_ptr<Backend> make_cuda_backend(const Device& device,
                                           const CudaBackendOptions& options) {
  if (device.kind() != Device::Kind::kCuda) {
    throw BackendUnavailable("device " + device.to_string() + ": not a CUDA device");
  }
  const int count = cuda_device_count_impl();
  if (device.ordinal() >= count) {
    throw BackendUnavailable("device " + device.to_string() + ": " + std::to_string(count) +
                             " CUDA device(s) visible");
  }
  return cuda::create_cuda_backend(device.ordinal(), options);
}

}  // namespace gpbo::detail
