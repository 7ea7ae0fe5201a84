// The CUDA backend's per-element math (cuda/gp_kernels.cuh), compiled by g++ and run on the
// host: each pipeline of cuda/cuda_backend.cu is replayed here with the same per-element
// functions and Eigen in place of cuBLAS/cuSOLVER, and must reproduce the CPU backend. This
// checks the decompositions (likelihood-gradient contraction, the fused acquisition-gradient
// coefficient) in CI, where no GPU exists.
#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <cmath>
#include <random>
#include <string>

#include "backend/acquisition_functors.hpp"
#include "backend/backend.hpp"
#include "backend/kernel_function.hpp"
#include "cuda/gp_kernels.cuh"

namespace {

using Eigen::MatrixXd;
using Eigen::VectorXd;
using gpbo::GpHyperparameters;
using gpbo::KernelType;

/// Host replay vs CpuBackend: the same double-precision formulas in a different order.
constexpr double kReplayRelTol = 1e-9;

const KernelType kKernels[] = {KernelType::kMatern52, KernelType::kRbf};

std::string kernel_name(KernelType k) { return k == KernelType::kRbf ? "rbf" : "matern52"; }

MatrixXd random_unit(std::mt19937_64& rng, int rows, int cols) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  MatrixXd X(rows, cols);
  for (int j = 0; j < cols; ++j) {
    for (int i = 0; i < rows; ++i) X(i, j) = u(rng);
  }
  return X;
}

VectorXd random_normal(std::mt19937_64& rng, int n) {
  std::normal_distribution<double> g;
  VectorXd v(n);
  for (int i = 0; i < n; ++i) v(i) = g(rng);
  return v;
}

GpHyperparameters random_hyper(std::mt19937_64& rng, int d) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  GpHyperparameters h;
  h.lengthscales.resize(d);
  for (int j = 0; j < d; ++j) h.lengthscales(j) = std::exp(std::log(0.1) + u(rng) * std::log(8.0));
  h.outputscale = std::exp(std::log(0.5) + u(rng) * std::log(4.0));
  h.noise = std::exp(std::log(1e-3) + u(rng) * std::log(100.0));
  h.mean = -0.5 + u(rng);
  return h;
}

double max_rel_diff(const MatrixXd& a, const MatrixXd& b) {
  return (a - b).cwiseAbs().maxCoeff() / std::max(1.0, b.cwiseAbs().maxCoeff());
}

/// K(X, X) + noise I from train_cov_entry (lower triangle mirrored), as train_cov_kernel does.
MatrixXd train_cov(KernelType kernel, const GpHyperparameters& h, const MatrixXd& X) {
  const VectorXd inv_l = h.lengthscales.cwiseInverse();
  const int n = static_cast<int>(X.rows()), d = static_cast<int>(X.cols());
  MatrixXd K(n, n);
  for (int k = 0; k < n; ++k) {
    for (int i = k; i < n; ++i) {
      const bool diag = i == k;
      const double r2 =
          diag ? 0.0
               : gpbo::cuda::scaled_sqdist_rows(X.data(), n, i, X.data(), n, k, inv_l.data(), d);
      K(i, k) = K(k, i) = gpbo::cuda::train_cov_entry(kernel, h.outputscale, h.noise, r2, diag);
    }
  }
  return K;
}

/// cross_cov_kernel: Kt(i, c) = s rho(r2(X_i, C_c)), n x m.
MatrixXd cross_cov(KernelType kernel, const GpHyperparameters& h, const MatrixXd& X,
                   const MatrixXd& C) {
  const VectorXd inv_l = h.lengthscales.cwiseInverse();
  const int n = static_cast<int>(X.rows()), m = static_cast<int>(C.rows());
  const int d = static_cast<int>(X.cols());
  MatrixXd Kt(n, m);
  for (int c = 0; c < m; ++c) {
    for (int i = 0; i < n; ++i) {
      const double r2 =
          gpbo::cuda::scaled_sqdist_rows(X.data(), n, i, C.data(), m, c, inv_l.data(), d);
      Kt(i, c) = h.outputscale * gpbo::kernel_rho(kernel, r2);
    }
  }
  return Kt;
}

TEST(GpKernelsHost, TrainingCovarianceMatchesKernelFunction) {
  std::mt19937_64 rng(1);
  for (KernelType kernel : kKernels) {
    SCOPED_TRACE(kernel_name(kernel));
    const MatrixXd X = random_unit(rng, 40, 4);
    const GpHyperparameters h = random_hyper(rng, 4);
    MatrixXd R2 = gpbo::scaled_sqdist(X, X, h.lengthscales);
    R2.diagonal().setZero();
    MatrixXd ref = gpbo::kernel_from_sqdist(kernel, h.outputscale, R2);
    ref.diagonal().array() += h.noise;
    // The CPU uses the GEMM form of the distance; the device the difference form.
    EXPECT_LE(max_rel_diff(train_cov(kernel, h, X), ref), 1e-12);
    const MatrixXd C = random_unit(rng, 7, 4);
    EXPECT_LE(max_rel_diff(cross_cov(kernel, h, X, C),
                           gpbo::kernel_from_sqdist(kernel, h.outputscale,
                                                    gpbo::scaled_sqdist(X, C, h.lengthscales))),
              1e-12);
  }
}

/// The CUDA likelihood gradient, step by step (lml_contract_kernel, SYMV/SYMM,
/// lengthscale_grad_kernel), against CpuBackend::log_marginal_likelihood.
TEST(GpKernelsHost, LikelihoodGradientContractionMatchesCpu) {
  std::mt19937_64 rng(2);
  const auto cpu = gpbo::make_cpu_backend();
  for (KernelType kernel : kKernels) {
    for (int n : {30, 90}) {
      SCOPED_TRACE(kernel_name(kernel) + " n=" + std::to_string(n));
      const int d = 3;
      const MatrixXd X_in = random_unit(rng, n, d);
      const VectorXd y = random_normal(rng, n);
      const GpHyperparameters h = random_hyper(rng, d);
      const MatrixXd X = X_in.rowwise() - X_in.colwise().mean();
      const VectorXd inv_l = h.lengthscales.cwiseInverse();
      const MatrixXd K = train_cov(kernel, h, X);
      const Eigen::LLT<MatrixXd> llt(K);
      ASSERT_EQ(llt.info(), Eigen::Success);
      const VectorXd alpha = llt.solve((y.array() - h.mean).matrix());
      const MatrixXd Kinv = llt.solve(MatrixXd::Identity(n, n));
      MatrixXd M = MatrixXd::Zero(n, n);
      double w_kernel = 0.0, w_trace = 0.0;
      for (int k = 0; k < n; ++k) {
        for (int i = k; i < n; ++i) {
          const bool diag = i == k;
          const double r2 = diag ? 0.0
                                 : gpbo::cuda::scaled_sqdist_rows(X.data(), n, i, X.data(), n, k,
                                                                  inv_l.data(), d);
          const gpbo::cuda::LmlPairTerm t = gpbo::cuda::lml_pair_term(
              kernel, h.outputscale, r2, alpha(i), alpha(k), Kinv(i, k), diag);
          M(i, k) = t.m;
          w_kernel += t.w_kernel;
          w_trace += t.w_trace;
        }
      }
      const MatrixXd Ms = M.selfadjointView<Eigen::Lower>();
      const VectorXd rows = Ms * VectorXd::Ones(n);
      const MatrixXd MX = Ms * X;
      VectorXd grad(d + 3);
      for (int j = 0; j < d; ++j) {
        double acc = 0.0;
        for (int i = 0; i < n; ++i) {
          acc += gpbo::cuda::lengthscale_grad_summand(X(i, j), rows(i), MX(i, j));
        }
        grad(j) = -2.0 * acc * inv_l(j) * inv_l(j);
      }
      grad(d) = 0.5 * w_kernel;
      grad(d + 1) = 0.5 * h.noise * w_trace;
      grad(d + 2) = alpha.sum();

      VectorXd ref;
      cpu->log_marginal_likelihood(kernel, h, X_in, y, &ref);
      ASSERT_EQ(ref.size(), d + 3);
      for (int k = 0; k < d + 3; ++k) {
        EXPECT_NEAR(grad(k), ref(k), kReplayRelTol * std::max(1.0, ref.cwiseAbs().maxCoeff()))
            << "coordinate " << k;
      }
    }
  }
}

/// The candidate pipeline (cross_cov, GEMV, TRSM, variance, grad_coef, GEMV/GEMM, x_gradient)
/// against CpuPosteriorFactor::predict and Backend::score.
TEST(GpKernelsHost, PosteriorAndAcquisitionGradientsMatchCpu) {
  std::mt19937_64 rng(3);
  const auto cpu = gpbo::make_cpu_backend();
  for (KernelType kernel : kKernels) {
    SCOPED_TRACE(kernel_name(kernel));
    const int n = 50, d = 4, m = 33;
    const MatrixXd X = random_unit(rng, n, d);
    const VectorXd y = random_normal(rng, n);
    const GpHyperparameters h = random_hyper(rng, d);
    const MatrixXd Xc = random_unit(rng, m, d);
    const VectorXd inv_l = h.lengthscales.cwiseInverse();

    const Eigen::LLT<MatrixXd> llt(train_cov(kernel, h, X));
    ASSERT_EQ(llt.info(), Eigen::Success);
    const MatrixXd L = llt.matrixL();
    const VectorXd alpha = llt.solve((y.array() - h.mean).matrix());
    const MatrixXd Kt = cross_cov(kernel, h, X, Xc);
    const VectorXd mean = (Kt.transpose() * alpha).array() + h.mean;
    const MatrixXd V = L.triangularView<Eigen::Lower>().solve(Kt);
    const VectorXd var =
        (h.outputscale - V.colwise().squaredNorm().transpose().array()).cwiseMax(0.0);
    const MatrixXd W = L.transpose().triangularView<Eigen::Upper>().solve(V);

    // grad(c, j) through grad_coefficient and x_gradient with per-candidate weights dm, dv.
    auto contract = [&](const VectorXd& dm, const VectorXd& dv) {
      MatrixXd E(n, m);
      for (int c = 0; c < m; ++c) {
        for (int i = 0; i < n; ++i) {
          const double r2 =
              gpbo::cuda::scaled_sqdist_rows(X.data(), n, i, Xc.data(), m, c, inv_l.data(), d);
          E(i, c) = gpbo::cuda::grad_coefficient(kernel, h.outputscale, r2, alpha(i), W(i, c),
                                                 dm(c), dv(c));
        }
      }
      const VectorXd colsum = E.transpose() * VectorXd::Ones(n);
      const MatrixXd XtE = X.transpose() * E;
      MatrixXd G(m, d);
      for (int c = 0; c < m; ++c) {
        for (int j = 0; j < d; ++j) {
          G(c, j) = gpbo::cuda::x_gradient(inv_l(j), Xc(c, j), colsum(c), XtE(j, c));
        }
      }
      return G;
    };
    const MatrixXd dmean = contract(VectorXd::Ones(m), VectorXd::Zero(m));
    const MatrixXd dvar = contract(VectorXd::Zero(m), VectorXd::Ones(m));

    const auto f = cpu->factor(kernel, h, X, y);
    VectorXd ref_mean, ref_var;
    MatrixXd ref_dmean, ref_dvar;
    f->predict(Xc, &ref_mean, &ref_var, &ref_dmean, &ref_dvar);
    EXPECT_LE(max_rel_diff(mean, ref_mean), kReplayRelTol);
    EXPECT_LE(max_rel_diff(var, ref_var), kReplayRelTol);
    EXPECT_LE(max_rel_diff(dmean, ref_dmean), kReplayRelTol);
    EXPECT_LE(max_rel_diff(dvar, ref_dvar), kReplayRelTol);

    // The fused coefficient: one contraction gives the acquisition's gradient.
    for (gpbo::AcquisitionType type :
         {gpbo::AcquisitionType::kLogEI, gpbo::AcquisitionType::kUCB, gpbo::AcquisitionType::kPI}) {
      gpbo::AcquisitionParams acq;
      acq.type = type;
      acq.best_f = ref_mean.maxCoeff();
      VectorXd dm(m), dv(m), values(m);
      for (int c = 0; c < m; ++c) {
        const gpbo::AcquisitionValue a = gpbo::evaluate_acquisition(acq, mean(c), var(c));
        values(c) = a.value;
        dm(c) = a.d_mean;
        dv(c) = a.d_var;
      }
      VectorXd ref_values;
      MatrixXd ref_grad;
      cpu->score(*f, acq, Xc, &ref_values, &ref_grad);
      EXPECT_LE(max_rel_diff(values, ref_values), 1e-8) << "acquisition " << static_cast<int>(type);
      EXPECT_LE(max_rel_diff(contract(dm, dv), ref_grad), 1e-8)
          << "acquisition " << static_cast<int>(type);
    }
  }
}

}  // namespace
