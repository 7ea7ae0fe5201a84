#include "backend/kernel_function.hpp"

namespace gpbo {

Eigen::MatrixXd scaled_sqdist(const Eigen::MatrixXd& A, const Eigen::MatrixXd& B,
                              const Eigen::VectorXd& lengthscales) {
  const Eigen::RowVectorXd inv = lengthscales.cwiseInverse().transpose();
  const Eigen::MatrixXd As = A.array().rowwise() * inv.array();
  const Eigen::MatrixXd Bs = B.array().rowwise() * inv.array();
  Eigen::MatrixXd R2 = -2.0 * As * Bs.transpose();
  R2.colwise() += As.rowwise().squaredNorm();
  R2.rowwise() += Bs.rowwise().squaredNorm().transpose();
  return R2.cwiseMax(0.0);
}

Eigen::MatrixXd kernel_from_sqdist(KernelType type, double outputscale, const Eigen::MatrixXd& R2) {
  Eigen::MatrixXd K;
  kernel_and_derivative(type, outputscale, R2, &K, nullptr);
  return K;
}

void kernel_and_derivative(KernelType type, double outputscale, const Eigen::MatrixXd& R2,
                           Eigen::MatrixXd* K, Eigen::MatrixXd* D) {
  if (type == KernelType::kRbf) {
    const Eigen::ArrayXXd E = (-0.5 * R2.array()).exp();
    if (K) *K = outputscale * E;
    if (D) *D = (-0.5 * outputscale) * E;
    return;
  }
  // Matern-5/2 with a = sqrt(5 r2): rho = (1 + a + a^2/3) e^-a, rho' = -(5/6)(1 + a) e^-a.
  const Eigen::ArrayXXd a = (5.0 * R2.array()).sqrt();
  const Eigen::ArrayXXd E = (-a).exp();
  if (K) *K = outputscale * (1.0 + a + a.square() * (1.0 / 3.0)) * E;
  if (D) *D = (-5.0 / 6.0 * outputscale) * (1.0 + a) * E;
}

}  // namespace gpbo
