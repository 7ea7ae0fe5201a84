#include <algorithm>
#include <atomic>
#include <climits>

#include "backend/jitter.hpp"
#include "cuda/cholesky.cuh"
#include "cuda/cuda_check.cuh"
#include "gpbo/error.hpp"

namespace gpbo::cuda {
namespace {

constexpr std::int64_t kLegacyLimit = INT_MAX;
std::atomic<std::int64_t> g_legacy_limit{kLegacyLimit};

/// A device workspace of at least `bytes` (the resources' solver workspace, in doubles).
void* device_workspace(CudaResources& r, std::size_t bytes) {
  return r.solver_workspace(
      std::max<std::size_t>(1, (bytes + sizeof(double) - 1) / sizeof(double)));
}

}  // namespace

bool use_64bit_solver(std::int64_t n, std::int64_t lda) { return n * lda > g_legacy_limit.load(); }

void set_legacy_solver_limit(std::int64_t elements) noexcept {
  g_legacy_limit.store(elements < 0 ? kLegacyLimit : elements);
}

bool potrf_lower(CudaResources& r, std::int64_t n, double* A, std::int64_t lda,
                 const std::string& what) {
  if (!use_64bit_solver(n, lda)) {
    const int ni = static_cast<int>(n), ldi = static_cast<int>(lda);
    int lwork = 0;
    GPBO_CUSOLVER_TRY(
        cusolverDnDpotrf_bufferSize(r.cusolver(), CUBLAS_FILL_MODE_LOWER, ni, A, ldi, &lwork));
    double* work = r.solver_workspace(std::max(lwork, 1));
    GPBO_CUSOLVER_TRY(cusolverDnDpotrf(r.cusolver(), CUBLAS_FILL_MODE_LOWER, ni, A, ldi, work,
                                       lwork, r.dev_info()));
    return detail::factorization_succeeded(r.read_dev_info(), "cusolverDnDpotrf", what);
  }
  std::size_t device_bytes = 0, host_bytes = 0;
  GPBO_CUSOLVER_TRY(cusolverDnXpotrf_bufferSize(r.cusolver(), r.cusolver_params(),
                                                CUBLAS_FILL_MODE_LOWER, n, CUDA_R_64F, A, lda,
                                                CUDA_R_64F, &device_bytes, &host_bytes));
  void* work = device_workspace(r, device_bytes);
  GPBO_CUSOLVER_TRY(cusolverDnXpotrf(r.cusolver(), r.cusolver_params(), CUBLAS_FILL_MODE_LOWER, n,
                                     CUDA_R_64F, A, lda, CUDA_R_64F, work, device_bytes,
                                     r.host_workspace(host_bytes), host_bytes, r.dev_info()));
  return detail::factorization_succeeded(r.read_dev_info(), "cusolverDnXpotrf", what);
}

double* cholesky_inverse(CudaResources& r, std::int64_t n, double* L, DeviceBuffer<double>* spare,
                         const std::string& what) {
  if (n == 0) return L;
  if (!use_64bit_solver(n, n)) {
    const int ni = static_cast<int>(n);
    int lwork = 0;
    GPBO_CUSOLVER_TRY(
        cusolverDnDpotri_bufferSize(r.cusolver(), CUBLAS_FILL_MODE_LOWER, ni, L, ni, &lwork));
    double* work = r.solver_workspace(std::max(lwork, 1));
    GPBO_CUSOLVER_TRY(cusolverDnDpotri(r.cusolver(), CUBLAS_FILL_MODE_LOWER, ni, L, ni, work, lwork,
                                       r.dev_info()));
    if (!detail::factorization_succeeded(r.read_dev_info(), "cusolverDnDpotri", what)) {
      throw NumericalError(what + ": potri found a singular Cholesky factor");
    }
    return L;
  }
  std::size_t device_bytes = 0, host_bytes = 0;
  GPBO_CUSOLVER_TRY(cusolverDnXtrtri_bufferSize(r.cusolver(), CUBLAS_FILL_MODE_LOWER,
                                                CUBLAS_DIAG_NON_UNIT, n, CUDA_R_64F, L, n,
                                                &device_bytes, &host_bytes));
  void* work = device_workspace(r, device_bytes);
  GPBO_CUSOLVER_TRY(cusolverDnXtrtri(r.cusolver(), CUBLAS_FILL_MODE_LOWER, CUBLAS_DIAG_NON_UNIT, n,
                                     CUDA_R_64F, L, n, work, device_bytes,
                                     r.host_workspace(host_bytes), host_bytes, r.dev_info()));
  if (!detail::factorization_succeeded(r.read_dev_info(), "cusolverDnXtrtri", what)) {
    throw NumericalError(what + ": trtri found a singular Cholesky factor");
  }
  // cuBLAS's int sizes hold n itself; only n * n exceeds them.
  const int ni = static_cast<int>(n);
  *spare = DeviceBuffer<double>(static_cast<std::size_t>(n) * n, r.stream());
  const double one = 1.0, zero = 0.0;
  GPBO_CUBLAS_TRY(cublasDsyrk(r.cublas(), CUBLAS_FILL_MODE_LOWER, CUBLAS_OP_T, ni, ni, &one, L, ni,
                              &zero, spare->data(), ni));
  return spare->data();
}

}  // namespace gpbo::cuda
