#include "backend/kernel_function.hpp"

#include <algorithm>

namespace gpbo {

Eigen::MatrixXd scaled_sqdist(const Eigen::MatrixXd& A, const Eigen::MatrixXd& B,
                              const Eigen::VectorXd& lengthscales) {
  Eigen::MatrixXd R2;
  scaled_sqdist(A, B, lengthscales, R2);
  return R2;
}

void scaled_sqdist(const Eigen::MatrixXd& A, const Eigen::MatrixXd& B,
                   const Eigen::VectorXd& lengthscales, Eigen::MatrixXd& out) {
  const Eigen::RowVectorXd inv = lengthscales.cwiseInverse().transpose();
  const Eigen::MatrixXd As = A.array().rowwise() * inv.array();
  const Eigen::MatrixXd Bs = B.array().rowwise() * inv.array();
  out.resize(A.rows(), B.rows());
  out.noalias() = -2.0 * As * Bs.transpose();
  out.colwise() += As.rowwise().squaredNorm();
  out.rowwise() += Bs.rowwise().squaredNorm().transpose();
  out = out.cwiseMax(0.0);
}

Eigen::MatrixXd kernel_from_sqdist(KernelType type, double outputscale, Eigen::MatrixXd R2) {
  kernel_and_derivative(type, outputscale, R2, &R2, nullptr);
  return R2;
}

void kernel_and_derivative(KernelType type, double outputscale, const Eigen::MatrixXd& R2,
                           Eigen::MatrixXd* K, Eigen::MatrixXd* D) {
  const Eigen::Index m = R2.rows(), n = R2.cols(), total = R2.size();
  // Resizing to the same size keeps the storage, so K == &R2 is safe: each chunk of R2 is read
  // into the chunk temporaries before that chunk of K or D is written.
  if (K) K->resize(m, n);
  if (D) D->resize(m, n);
  // Chunks of the matrix's storage whose length is a multiple of every SIMD width: the same
  // packets as one pass over the whole matrix, so the same values to the last bit.
  constexpr Eigen::Index kChunk = 4096;
  Eigen::ArrayXd a(std::min(total, kChunk)), e(std::min(total, kChunk));
  for (Eigen::Index off = 0; off < total; off += kChunk) {
    const Eigen::Index len = std::min(kChunk, total - off);
    const Eigen::Map<const Eigen::ArrayXd> r2(R2.data() + off, len);
    auto ea = e.head(len);
    if (type == KernelType::kRbf) {
      ea = (-0.5 * r2).exp();
      if (D) Eigen::Map<Eigen::ArrayXd>(D->data() + off, len) = (-0.5 * outputscale) * ea;
      if (K) Eigen::Map<Eigen::ArrayXd>(K->data() + off, len) = outputscale * ea;
      continue;
    }
    // Matern-5/2 with a = sqrt(5 r2): rho = (1 + a + a^2/3) e^-a, rho' = -(5/6)(1 + a) e^-a.
    auto aa = a.head(len);
    aa = (5.0 * r2).sqrt();
    ea = (-aa).exp();
    if (D) {
      Eigen::Map<Eigen::ArrayXd>(D->data() + off, len) =
          (-5.0 / 6.0 * outputscale) * (1.0 + aa) * ea;
    }
    if (K) {
      Eigen::Map<Eigen::ArrayXd>(K->data() + off, len) =
          outputscale * (1.0 + aa + aa.square() * (1.0 / 3.0)) * ea;
    }
  }
}

}  // namespace gpbo
