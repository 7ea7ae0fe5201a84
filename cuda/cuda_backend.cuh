#pragma once
// CudaBackend: the Backend interface on one CUDA device (cuSOLVER Cholesky, cuBLAS solves and
// products, the per-element math of cuda/gp_kernels.cuh in CUDA kernels, Thrust for scoring
// and top-k). Double precision throughout unless CudaBackendOptions asks for float32 scoring.

#include <memory>

#include "backend/backend.hpp"
#include "backend/cuda_entry.hpp"

namespace gpbo::cuda {

/// A backend on CUDA device `ordinal`, which the caller has checked exists. GPU handles are
/// created on first use. Throws BackendUnavailable if the device cannot be used.
std::unique_ptr<Backend> create_cuda_backend(int ordinal,
                                             const detail::CudaBackendOptions& options);

}  // namespace gpbo::cuda
