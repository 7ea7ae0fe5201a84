#pragma once
// Cholesky factor and inverse through cuSOLVER, the API chosen by size. cuSOLVER's 32-bit
// ("legacy") routines (cusolverDnDpotrf, cusolverDnDpotri) take int sizes, and NVIDIA does not
// document whether they index an operand of more than 2^31 - 1 elements safely (n > 46,340 for
// lda = n). gpbo uses them only below that size, and the 64-bit generic API above it:
// cusolverDnXpotrf for the factor; cusolverDnXtrtri (L^{-1}, in place) then a cuBLAS syrk
// (K^{-1} = L^{-T} L^{-1}) for the inverse, since the generic API has no potri. Every call
// checks its status and reads devInfo; callers hold a CudaResources::Lock.

#include <cstdint>
#include <string>

#include "cuda/cuda_resources.cuh"
#include "cuda/device_buffer.cuh"

namespace gpbo::cuda {

/// Whether an n x n operand with leading dimension lda goes through the 64-bit API: when n * lda
/// exceeds the legacy limit (2^31 - 1 elements).
bool use_64bit_solver(std::int64_t n, std::int64_t lda);

/// The legacy limit, in elements; a test hook (0 sends every size through the 64-bit API, a
/// negative value restores the default, 2^31 - 1).
void set_legacy_solver_limit(std::int64_t elements) noexcept;

/// Factors the n x n matrix A (ld lda, lower triangle; the strict upper triangle is neither
/// read nor written) in place: true on success, false when a leading minor is not positive
/// definite. Throws BackendUnavailable on a failed call, and the base Error on an argument
/// cuSOLVER rejects (a bug).
bool potrf_lower(CudaResources& r, std::int64_t n, double* A, std::int64_t lda,
                 const std::string& what);

/// The lower triangle of K^{-1} (ld n) from the lower Cholesky factor L (n x n, ld n) of K,
/// which it overwrites; returns where it lies: in L itself (32-bit: potri), or in `spare`,
/// allocated here (64-bit: L^{-1} by trtri in place, then a syrk into `spare`: L's strict upper
/// triangle must be zero, as the syrk reads all of it). Throws NumericalError for a singular
/// factor, BackendUnavailable and Error as potrf_lower.
double* cholesky_inverse(CudaResources& r, std::int64_t n, double* L, DeviceBuffer<double>* spare,
                         const std::string& what);

}  // namespace gpbo::cuda
