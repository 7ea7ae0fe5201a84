// The kernels as functions of the scaled squared distance (backend/kernel_function.hpp): the
// matrix passes against the scalar formulas, in place and out of place.
#include "backend/kernel_function.hpp"

#include <gtest/gtest.h>

#include <Eigen/Core>
#include <random>
#include <string>

namespace {

using Eigen::MatrixXd;
using gpbo::KernelType;

/// Scaled squared distances of two random point sets: 67 x 71 = 4,757 entries, more than one
/// chunk of kernel_and_derivative's pass and not a multiple of any SIMD width.
MatrixXd distances(std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  MatrixXd A(67, 3), B(71, 3);
  for (Eigen::Index i = 0; i < A.size(); ++i) A.data()[i] = u(rng);
  for (Eigen::Index i = 0; i < B.size(); ++i) B.data()[i] = u(rng);
  const Eigen::VectorXd lengthscales = Eigen::Vector3d(0.2, 0.5, 1.5);
  MatrixXd R2 = gpbo::scaled_sqdist(A, B, lengthscales);
  MatrixXd into(5, 5);  // another size: resized, then filled the same way
  gpbo::scaled_sqdist(A, B, lengthscales, into);
  EXPECT_TRUE(into == R2) << "scaled_sqdist into a matrix differs from the returned one";
  R2(0, 0) = 0.0;  // a zero distance too (the diagonal of a training covariance)
  return R2;
}

TEST(KernelFunction, MatrixPassesMatchTheScalarFormulasInPlaceOrNot) {
  constexpr double kOutputscale = 1.7;
  for (KernelType kernel : {KernelType::kMatern52, KernelType::kRbf}) {
    SCOPED_TRACE(kernel == KernelType::kRbf ? "rbf" : "matern52");
    const MatrixXd R2 = distances(7);
    MatrixXd K, D;
    gpbo::kernel_and_derivative(kernel, kOutputscale, R2, &K, &D);
    ASSERT_EQ(K.rows(), R2.rows());
    ASSERT_EQ(K.cols(), R2.cols());
    ASSERT_EQ(D.rows(), R2.rows());
    ASSERT_EQ(D.cols(), R2.cols());
    for (Eigen::Index j = 0; j < R2.cols(); ++j) {
      for (Eigen::Index i = 0; i < R2.rows(); ++i) {
        const double r2 = R2(i, j);
        ASSERT_NEAR(K(i, j), kOutputscale * gpbo::kernel_rho(kernel, r2), 1e-14)
            << "entry " << i << ", " << j;
        ASSERT_NEAR(D(i, j), kOutputscale * gpbo::kernel_drho_dr2(kernel, r2), 1e-14)
            << "entry " << i << ", " << j;
      }
    }
    // In the distances' own storage (K is R2): the same values to the last bit, no new buffer.
    MatrixXd in_place = R2, D2;
    const double* storage = in_place.data();
    gpbo::kernel_and_derivative(kernel, kOutputscale, in_place, &in_place, &D2);
    EXPECT_EQ(in_place.data(), storage);
    EXPECT_TRUE(in_place == K);
    EXPECT_TRUE(D2 == D);
    // kernel_from_sqdist, given the distances to consume or a copy of them.
    EXPECT_TRUE(gpbo::kernel_from_sqdist(kernel, kOutputscale, R2) == K);
    MatrixXd moved = R2;
    EXPECT_TRUE(gpbo::kernel_from_sqdist(kernel, kOutputscale, std::move(moved)) == K);
  }
}

}  // namespace
