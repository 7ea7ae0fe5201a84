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
  return R2.unaryExpr(
      [type, outputscale](double r2) { return outputscale * kernel_rho(type, r2); });
}

}  // namespace gpbo
