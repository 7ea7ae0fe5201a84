// CUDA builds: device discovery. The CudaBackend itself lands with issue 3; until then this
// build reports its devices but creates no CUDA backend, so `auto` runs on the CPU.
#include <cuda_runtime.h>

#include "backend/backend.hpp"
#include "backend/cuda_entry.hpp"
#include "gpbo/error.hpp"

namespace gpbo::detail {

bool cuda_backend_built() noexcept { return false; }

int cuda_device_count_impl() noexcept {
  int count = 0;
  // Without a driver this returns an error: that means no usable device, not a failure.
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();
    return 0;
  }
  return count;
}

std::unique_ptr<Backend> make_cuda_backend(const Device& device) {
  throw BackendUnavailable("device " + device.to_string() +
                           ": the CUDA backend is not implemented in this version");
}

}  // namespace gpbo::detail
