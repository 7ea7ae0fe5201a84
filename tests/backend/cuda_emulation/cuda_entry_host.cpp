// The emulation's CUDA entry points (backend/cuda_entry.hpp): one device, cuda:0, whose backend
// is cuda/cuda_backend.cu on the device emulation. These definitions take the place of the
// library's own (src/backend/cuda_stub.cpp, or cuda/cuda_entry.cu in a CUDA build): the linker
// takes an archive member only for symbols still undefined, so neither is linked into
// gpbo_cuda_emulation_tests. make_backend, GaussianProcess and Study reach the emulated device
// through them, as they would a real one.
#include <string>

#include "backend/backend.hpp"
#include "backend/cuda_entry.hpp"
#include "cuda/cuda_backend.cuh"
#include "gpbo/error.hpp"

namespace gpbo::detail {

bool cuda_backend_built() noexcept { return true; }

int cuda_device_count_impl() noexcept { return 1; }

std::unique_ptr<Backend> make_cuda_backend(const Device& device,
                                           const CudaBackendOptions& options) {
  if (device.kind() != Device::Kind::kCuda || device.ordinal() != 0) {
    throw BackendUnavailable("device " + device.to_string() + ": the emulation has cuda:0 only");
  }
  return cuda::create_cuda_backend(0, options);
}

}  // namespace gpbo::detail
