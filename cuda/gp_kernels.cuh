#pragma once
// Per-element GP math of the CUDA backend, as GPBO_HD functions over column-major arrays: the
// kernels in cuda_backend.cu call them per matrix entry, and tests/backend/gp_kernels_host_test
// compiles them with g++ and checks them against the CPU backend. No CUDA types here.

#include <cstddef>

#include "backend/host_device.hpp"
#include "backend/kernel_function.hpp"
#include "gpbo/kernel.hpp"

namespace gpbo::cuda {

/// Scaled squared distance sum_j ((a_j - b_j) / l_j)^2 between row `ia` of A and row `ib` of B,
/// both column-major with leading dimensions `lda`, `ldb`; `inv_l` holds 1 / l_j.
GPBO_HD inline double scaled_sqdist_rows(const double* A, std::size_t lda, std::size_t ia,
                                         const double* B, std::size_t ldb, std::size_t ib,
                                         const double* inv_l, int d) {
  double r2 = 0.0;
  for (int j = 0; j < d; ++j) {
    const double u = (A[ia + j * lda] - B[ib + j * ldb]) * inv_l[j];
    r2 += u * u;
  }
  return r2;
}

/// Training covariance entry K_ik = s rho(r2) + noise [i == k]; the distance of a point to
/// itself is exactly 0, as in the CPU backend.
GPBO_HD inline double train_cov_entry(KernelType kernel, double outputscale, double noise,
                                      double r2, bool diagonal) {
  return diagonal ? outputscale * kernel_rho(kernel, 0.0) + noise
                  : outputscale * kernel_rho(kernel, r2);
}

/// One entry's share of the likelihood gradient (Rasmussen & Williams eq. 5.9), with
/// W_ik = alpha_i alpha_k - (K^{-1})_ik on the lower triangle (i >= k).
struct LmlPairTerm {
  double m;         ///< W_ik s rho'(r2): the entry of the matrix the lengthscale sums contract
  double w_kernel;  ///< W_ik s rho(r2) times 2 off the diagonal: summed for d/d log s
  double w_trace;   ///< W_ik on the diagonal (0 off it): summed for d/d log noise
};

GPBO_HD inline LmlPairTerm lml_pair_term(KernelType kernel, double outputscale, double r2,
                                         double alpha_i, double alpha_k, double kinv_ik,
                                         bool diagonal) {
  const double w = alpha_i * alpha_k - kinv_ik;
  if (diagonal) {
    return {w * outputscale * kernel_drho_dr2(kernel, 0.0),
            w * outputscale * kernel_rho(kernel, 0.0), w};
  }
  return {w * outputscale * kernel_drho_dr2(kernel, r2),
          2.0 * w * outputscale * kernel_rho(kernel, r2), 0.0};
}

/// d LML / d log l_j = -2 / l_j^2 (sum_i x_ij^2 rows_i - sum_i x_ij (M X)_ij) for the symmetric
/// M of lml_pair_term (rows = M 1): the summand for observation i.
GPBO_HD inline double lengthscale_grad_summand(double x_ij, double row_i, double mx_ij) {
  return x_ij * x_ij * row_i - x_ij * mx_ij;
}

/// Coefficient of candidate c and observation i in the x-gradient of an acquisition:
/// E_ic = s rho'(r2) (dm_c alpha_i - 2 dv_c W_ic), where dm, dv are the acquisition's
/// derivatives in the posterior mean and variance and W = K^{-1} k(X, x_c). With dm = 1, dv = 0
/// it gives the mean's gradient; with dm = 0, dv = 1 the variance's.
GPBO_HD inline double grad_coefficient(KernelType kernel, double outputscale, double r2,
                                       double alpha_i, double w_ic, double dm_c, double dv_c) {
  return outputscale * kernel_drho_dr2(kernel, r2) * (dm_c * alpha_i - 2.0 * dv_c * w_ic);
}

/// Gradient entry for candidate c, dimension j: 2 / l_j^2 (x_cj sum_i E_ic - sum_i E_ic x_ij),
/// i.e. sum_i E_ic d r2(x_c, x_i) / d x_cj.
GPBO_HD inline double x_gradient(double inv_l_j, double x_cj, double colsum_c, double xte_jc) {
  return 2.0 * inv_l_j * inv_l_j * (x_cj * colsum_c - xte_jc);
}

}  // namespace gpbo::cuda
