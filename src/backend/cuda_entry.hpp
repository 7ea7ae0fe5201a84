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
/// Creates the CUDA backend on `device`. Throws BackendUnavailable when it cannot.
std::unique_ptr<Backend> make_cuda_backend(const Device& device);

}  // namespace detail
}  // namespace gpbo
