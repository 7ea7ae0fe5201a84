// CPU-only builds: the CUDA entry points exist but report that there is no CUDA backend.
#include "backend/backend.hpp"
#include "backend/cuda_entry.hpp"
#include "gpbo/error.hpp"

namespace gpbo::detail {

bool cuda_backend_built() noexcept { return false; }
int cuda_device_count_impl() noexcept { return 0; }
std::unique_ptr<Backend> make_cuda_backend(const Device& device, const CudaBackendOptions&) {
  throw BackendUnavailable("device " + device.to_string() +
                           ": gpbo was built without CUDA (GPBO_CUDA=OFF or no nvcc)");
}

}  // namespace gpbo::detail
