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
/// Precision of the CUDA backend's batched candidate scoring (acquisition values without
/// gradients, and top-k). Gradients, predict(), the fit and the factor are always double.
enum class ScorePrecision { kDouble, kFloat };

/// Options of the CUDA backend; the defaults give the CPU backend's numbers.
struct CudaBackendOptions {
  /// kFloat: the cross-covariance, triangular solve and mean of the candidates in float32
  /// (about 2x less memory traffic, and the card's FP32 rate); accuracy measured in
  /// tests/backend/cuda_backend_test.cpp.
  ScorePrecision scoring = ScorePrecision::kDouble;
};

/// Creates the CUDA backend on `device`. Throws BackendUnavailable when it cannot.
std::unique_ptr<Backend> make_cuda_backend(const Device& device,
                                           const CudaBackendOptions& options = {});

}  // namespace detail
}  // namespace gpbo
