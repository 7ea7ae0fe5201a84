#pragma once
// Stationary ARD kernels as functions of the scaled squared distance
// r2 = sum_j (x_j - x'_j)^2 / l_j^2, with unit outputscale.

#include <Eigen/Core>
#include <cmath>

#include "backend/host_device.hpp"
#include "gpbo/kernel.hpp"

namespace gpbo {

/// rho(r2): Matern-5/2 (1 + sqrt5 r + 5 r^2 / 3) exp(-sqrt5 r), or RBF exp(-r2 / 2).
GPBO_HD inline double kernel_rho(KernelType type, double r2) {
  if (type == KernelType::kRbf) return exp(-0.5 * r2);
  const double a = sqrt(5.0 * r2);
  return (1.0 + a + a * a / 3.0) * exp(-a);
}

/// d rho / d r2; finite at r2 = 0 for both kernels (Matern-5/2: -(5/6)(1 + sqrt5 r) e^{-sqrt5 r}).
GPBO_HD inline double kernel_drho_dr2(KernelType type, double r2) {
  if (type == KernelType::kRbf) return -0.5 * exp(-0.5 * r2);
  const double a = sqrt(5.0 * r2);
  return -(5.0 / 6.0) * (1.0 + a) * exp(-a);
}

/// Scaled squared distances between the rows of A (m x d) and B (n x d): an m x n matrix.
/// Uses the GEMM form |a|^2 + |b|^2 - 2 a.b (clamped at 0) so large blocks run at BLAS speed.
Eigen::MatrixXd scaled_sqdist(const Eigen::MatrixXd& A, const Eigen::MatrixXd& B,
                              const Eigen::VectorXd& lengthscales);
/// The same into `out` (resized to m x n; storage of that size is reused, no other m x n
/// matrix is made).
void scaled_sqdist(const Eigen::MatrixXd& A, const Eigen::MatrixXd& B,
                   const Eigen::VectorXd& lengthscales, Eigen::MatrixXd& out);

/// outputscale * rho(r2) applied elementwise to a matrix of scaled squared distances, in the
/// distances' own storage (pass a temporary, or std::move, to make no copy).
Eigen::MatrixXd kernel_from_sqdist(KernelType type, double outputscale, Eigen::MatrixXd R2);

/// Both outputscale * rho(R2) and outputscale * rho'(R2) (d/d r2), sharing the exponentials.
/// Vectorized over chunks of the storage (these elementwise passes cost as much as the
/// Cholesky at moderate n), with no temporary as large as R2: K may be R2 itself (the
/// distances are replaced by the kernel), D must not be.
void kernel_and_derivative(KernelType type, double outputscale, const Eigen::MatrixXd& R2,
                           Eigen::MatrixXd* K, Eigen::MatrixXd* D);

}  // namespace gpbo
