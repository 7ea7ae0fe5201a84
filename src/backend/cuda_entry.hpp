#pragma once
// The only bridge between the portable code and cuda/: implemented by cuda/*.cu in CUDA builds
// and by src/backend/cuda_stub.cpp in CPU-only builds, so no call site needs an #ifdef.

#include <memory>

#include "gpbo/device.hpp"

namespace gpbo {
class Backend;
namespace detail {

/// True when this build contains a usable CUDA backend.
bool cuda_backend_built() noexcept;
/// cudaGetDeviceCount, with any error (no driver, no device) read as 0.
int cuda_device_count_impl() noexcept;
/// Options of the CUDA backend; the defaults give the CPU backend's numbers.
struct CudaBackendOptions {
  /// See gpbo::ScorePrecision; accuracy measured in tests/backend/cuda_backend_test.cpp.
  ScorePrecision scoring = ScorePrecision::kDouble;
};

/// Creates the CUDA backend on `device`. Throws BackendUnavailable when it cannot.
std::unique_ptr<Backend> make_cuda_backend(const Device& device,
                                           const CudaBackendOptions& options = {});

}  // namespace detail
}  // namespace gpbo
