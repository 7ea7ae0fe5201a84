// GP posterior, marginal likelihood and fitting against closed forms and finite differences.
//
// Backend-level cases are written once as `run_xxx(const gpbo::Device&)` and run on every
// backend: TEST(..., XxxCpu) on the CPU, TEST(..., XxxCuda) on cuda:0 when one is visible.
#include "gpbo/gp.hpp"

#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "backend/backend.hpp"
#include "gpbo/device.hpp"
#include "gpbo/error.hpp"
#include "model/priors.hpp"

namespace {

using Eigen::MatrixXd;
using Eigen::VectorXd;
using gpbo::Device;
using gpbo::GaussianProcess;
using gpbo::GpHyperparameters;
using gpbo::GpOptions;
using gpbo::KernelType;

/// Agreement of two double-precision evaluations of the same closed form.
constexpr double kF64Tol = 1e-10;
/// Relative agreement of LML values computed two ways.
constexpr double kLmlRelTol = 1e-10;
/// Analytic gradient vs a fourth-order central finite difference, relative to max(|fd|, 1).
constexpr double kFdRelTol = 1e-6;
/// Incremental (appended) factor vs a fresh factor on all rows.
constexpr double kAppendTol = 1e-9;
/// Same problem at y and 1e6 y: predictions / 1e6, relative to std(y).
constexpr double kScaleInvariancePredTol = 1e-6;
/// Same problem at y and 1e6 y: fitted (standardized) hyperparameters, relative.
constexpr double kScaleInvarianceHyperTol = 1e-4;

const KernelType kKernels[] = {KernelType::kMatern52, KernelType::kRbf};

std::string kernel_name(KernelType k) { return k == KernelType::kRbf ? "rbf" : "matern52"; }

// ------------------------------------------------------------------ closed-form references

/// k(a, b) written out from the definition, without the library's kernel code.
double kernel_by_hand(KernelType kernel, const GpHyperparameters& h, const VectorXd& a,
                      const VectorXd& b) {
  double r2 = 0.0;
  for (Eigen::Index j = 0; j < a.size(); ++j) {
    const double u = (a(j) - b(j)) / h.lengthscales(j);
    r2 += u * u;
  }
  if (kernel == KernelType::kRbf) return h.outputscale * std::exp(-0.5 * r2);
  const double r = std::sqrt(r2);
  const double s5 = std::sqrt(5.0);
  return h.outputscale * (1.0 + s5 * r + 5.0 * r2 / 3.0) * std::exp(-s5 * r);
}

/// K(A, B) by hand (no noise).
MatrixXd cov_by_hand(KernelType kernel, const GpHyperparameters& h, const MatrixXd& A,
                     const MatrixXd& B) {
  MatrixXd K(A.rows(), B.rows());
  for (Eigen::Index i = 0; i < A.rows(); ++i) {
    for (Eigen::Index j = 0; j < B.rows(); ++j) {
      K(i, j) = kernel_by_hand(kernel, h, A.row(i).transpose(), B.row(j).transpose());
    }
  }
  return K;
}

struct ClosedPosterior {
  VectorXd mean, var;
};

/// mean = m + k*^T (K + noise I)^{-1} (y - m), var = s - k*^T (K + noise I)^{-1} k*, via LDLT.
ClosedPosterior posterior_by_hand(KernelType kernel, const GpHyperparameters& h, const MatrixXd& X,
                                  const VectorXd& y, const MatrixXd& Xc) {
  MatrixXd K = cov_by_hand(kernel, h, X, X);
  K.diagonal().array() += h.noise;
  const Eigen::LDLT<MatrixXd> ldlt(K);
  const MatrixXd Ks = cov_by_hand(kernel, h, X, Xc);  // n x m
  const VectorXd resid = (y.array() - h.mean).matrix();
  const VectorXd alpha = ldlt.solve(resid);
  const MatrixXd W = ldlt.solve(Ks);
  ClosedPosterior out;
  out.mean = (Ks.transpose() * alpha).array() + h.mean;
  out.var = (h.outputscale - Ks.cwiseProduct(W).colwise().sum().array()).transpose();
  return out;
}

constexpr double kLog2Pi = 1.8378770664093454836;

/// -0.5 r^T K^{-1} r - 0.5 log|K| - n/2 log 2 pi, via LLT.
double lml_by_hand(KernelType kernel, const GpHyperparameters& h, const MatrixXd& X,
                   const VectorXd& y) {
  MatrixXd K = cov_by_hand(kernel, h, X, X);
  K.diagonal().array() += h.noise;
  const Eigen::LLT<MatrixXd> llt(K);
  EXPECT_EQ(llt.info(), Eigen::Success);
  const VectorXd r = (y.array() - h.mean).matrix();
  const double quad = r.dot(llt.solve(r));
  const double logdet = 2.0 * llt.matrixL().toDenseMatrix().diagonal().array().log().sum();
  return -0.5 * quad - 0.5 * logdet - 0.5 * static_cast<double>(X.rows()) * kLog2Pi;
}

// ------------------------------------------------------------------ helpers

/// Fourth-order central difference of f at 0 along a unit step of size `step`.
double fd4(const std::function<double(double)>& f, double step) {
  return (8.0 * (f(step) - f(-step)) - (f(2.0 * step) - f(-2.0 * step))) / (12.0 * step);
}

MatrixXd random_unit(std::mt19937_64& rng, Eigen::Index rows, Eigen::Index cols) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  MatrixXd X(rows, cols);
  for (Eigen::Index i = 0; i < rows; ++i)
    for (Eigen::Index j = 0; j < cols; ++j) X(i, j) = u(rng);
  return X;
}

VectorXd random_normal(std::mt19937_64& rng, Eigen::Index n, double mean = 0.0, double sd = 1.0) {
  std::normal_distribution<double> nd(mean, sd);
  VectorXd v(n);
  for (Eigen::Index i = 0; i < n; ++i) v(i) = nd(rng);
  return v;
}

/// A random but well-conditioned hyperparameter setting (noise >= 1e-3 keeps jitter off).
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

GpHyperparameters fixed_hyper_2d() {
  GpHyperparameters h;
  h.lengthscales = Eigen::Vector2d(0.3, 0.7);
  h.outputscale = 1.7;
  h.noise = 1e-3;
  h.mean = 0.2;
  return h;
}

/// A smooth test function on [0, 1]^2.
double smooth_2d(double a, double b) { return std::sin(3.0 * a) + std::cos(2.0 * b) + 0.5 * a * b; }

VectorXd smooth_values(const MatrixXd& X) {
  VectorXd y(X.rows());
  for (Eigen::Index i = 0; i < X.rows(); ++i) y(i) = smooth_2d(X(i, 0), X(i, 1));
  return y;
}

double sample_std(const VectorXd& y) {
  return std::sqrt((y.array() - y.mean()).square().sum() / static_cast<double>(y.size() - 1));
}

GpOptions options_for(KernelType kernel) {
  GpOptions o;
  o.kernel = kernel;
  return o;
}

/// Log posterior (LML + log priors), standardized scale, as GaussianProcess::fit defines it.
double log_posterior_by_parts(const gpbo::Backend& backend, KernelType kernel,
                              const GpHyperparameters& h, const MatrixXd& X,
                              const VectorXd& y_std) {
  const int d = static_cast<int>(X.cols());
  double lp = backend.log_marginal_likelihood(kernel, h, X, y_std, nullptr);
  const gpbo::LogNormalPrior ls = gpbo::lengthscale_prior(d);
  for (int j = 0; j < d; ++j) lp += ls.log_density(std::log(h.lengthscales(j)), nullptr);
  lp += gpbo::outputscale_prior().log_density(std::log(h.outputscale), nullptr);
  lp += gpbo::noise_prior().log_density(std::log(h.noise), nullptr);
  return lp;
}

// ------------------------------------------------------------------ posterior vs closed form

void run_posterior_closed_form(const Device& device) {
  const auto backend = gpbo::make_backend(device);
  std::mt19937_64 rng(11);
  const GpHyperparameters h = fixed_hyper_2d();
  for (KernelType kernel : kKernels) {
    for (int n = 3; n <= 5; ++n) {
      SCOPED_TRACE(kernel_name(kernel) + " n=" + std::to_string(n));
      const MatrixXd X = random_unit(rng, n, 2);
      const VectorXd y = random_normal(rng, n);
      MatrixXd Xc(7, 2);
      Xc.topRows(6) = random_unit(rng, 6, 2);
      Xc.row(6) = X.row(0);  // at a training point too
      const auto f = backend->factor(kernel, h, X, y);
      ASSERT_EQ(f->size(), n);
      EXPECT_EQ(f->jitter(), 0.0);
      VectorXd mean, var;
      f->predict(Xc, &mean, &var);
      const ClosedPosterior ref = posterior_by_hand(kernel, h, X, y, Xc);
      ASSERT_EQ(mean.size(), Xc.rows());
      ASSERT_EQ(var.size(), Xc.rows());
      for (Eigen::Index i = 0; i < Xc.rows(); ++i) {
        EXPECT_NEAR(mean(i), ref.mean(i), kF64Tol * (1.0 + std::abs(ref.mean(i)))) << "row " << i;
        EXPECT_NEAR(var(i), ref.var(i), kF64Tol * h.outputscale) << "row " << i;
      }
      // Mean alone and variance alone give the same numbers.
      VectorXd mean_only, var_only;
      f->predict(Xc, &mean_only, nullptr);
      f->predict(Xc, nullptr, &var_only);
      EXPECT_LE((mean_only - mean).cwiseAbs().maxCoeff(), 1e-14);
      EXPECT_TRUE((var_only - var).cwiseAbs().maxCoeff() <= 1e-14);
    }
  }
}

TEST(PosteriorFactor, ClosedFormCpu) { run_posterior_closed_form(Device::cpu()); }
TEST(PosteriorFactor, ClosedFormCuda) {
  if (gpbo::cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device visible";
  run_posterior_closed_form(Device::cuda(0));
}

/// GaussianProcess::condition standardizes y; the hyperparameters live on that scale.
void run_gp_condition_closed_form(const Device& device) {
  std::mt19937_64 rng(12);
  const GpHyperparameters h = fixed_hyper_2d();
  for (KernelType kernel : kKernels) {
    for (int n = 3; n <= 5; ++n) {
      SCOPED_TRACE(kernel_name(kernel) + " n=" + std::to_string(n));
      const MatrixXd X = random_unit(rng, n, 2);
      const VectorXd y = random_normal(rng, n, 10.0, 3.0);
      MatrixXd Xc(5, 2);
      Xc.topRows(4) = random_unit(rng, 4, 2);
      Xc.row(4) = X.row(n - 1);
      GaussianProcess gp(options_for(kernel), device);
      gp.condition(X, y, h);
      ASSERT_TRUE(gp.fitted());
      const double ym = y.mean(), ys = sample_std(y);
      EXPECT_NEAR(gp.y_mean(), ym, 1e-12 * std::abs(ym));
      EXPECT_NEAR(gp.y_scale(), ys, 1e-12 * ys);
      const VectorXd y_std = (y.array() - ym) / ys;
      const ClosedPosterior ref = posterior_by_hand(kernel, h, X, y_std, Xc);
      const gpbo::Prediction p = gp.predict(Xc);
      ASSERT_EQ(p.mean.size(), Xc.rows());
      ASSERT_EQ(p.stddev.size(), Xc.rows());
      for (Eigen::Index i = 0; i < Xc.rows(); ++i) {
        const double ref_mean = ref.mean(i) * ys + ym;
        const double ref_sd = std::sqrt(ref.var(i)) * ys;
        EXPECT_NEAR(p.mean(i), ref_mean, kF64Tol * (std::abs(ref_mean) + ys)) << "row " << i;
        // sqrt amplifies absolute error in small variances; compare the variances instead.
        EXPECT_NEAR(p.stddev(i) * p.stddev(i), ref_sd * ref_sd, kF64Tol * ys * ys * h.outputscale)
            << "row " << i;
      }
    }
  }
}

TEST(GpCondition, ClosedFormCpu) { run_gp_condition_closed_form(Device::cpu()); }
TEST(GpCondition, ClosedFormCuda) {
  if (gpbo::cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device visible";
  run_gp_condition_closed_form(Device::cuda(0));
}

// ------------------------------------------------------------------ log marginal likelihood

struct LmlCase {
  KernelType kernel;
  GpHyperparameters h;
  MatrixXd X;
  VectorXd y;
  std::string name;
};

/// n in {20, 31, 40}, d = 3, two hyperparameter draws each, both kernels; fixed seed.
std::vector<LmlCase> lml_cases() {
  std::mt19937_64 rng(2024);
  std::vector<LmlCase> cases;
  for (KernelType kernel : kKernels) {
    for (int n : {20, 31, 40}) {
      for (int draw = 0; draw < 2; ++draw) {
        LmlCase c;
        c.kernel = kernel;
        c.X = random_unit(rng, n, 3);
        c.y = random_normal(rng, n);
        c.h = random_hyper(rng, 3);
        c.name = kernel_name(kernel) + " n=" + std::to_string(n) + " draw " + std::to_string(draw);
        cases.push_back(std::move(c));
      }
    }
  }
  return cases;
}

void run_lml_closed_form(const Device& device) {
  const auto backend = gpbo::make_backend(device);
  for (const LmlCase& c : lml_cases()) {
    SCOPED_TRACE(c.name);
    const double got = backend->log_marginal_likelihood(c.kernel, c.h, c.X, c.y, nullptr);
    const double ref = lml_by_hand(c.kernel, c.h, c.X, c.y);
    EXPECT_NEAR(got, ref, kLmlRelTol * std::max(1.0, std::abs(ref)));
    VectorXd grad;
    const double with_grad = backend->log_marginal_likelihood(c.kernel, c.h, c.X, c.y, &grad);
    EXPECT_NEAR(with_grad, got, 1e-12 * std::max(1.0, std::abs(got)));
  }
}

TEST(LmlTest, ClosedFormCpu) { run_lml_closed_form(Device::cpu()); }
TEST(LmlTest, ClosedFormCuda) {
  if (gpbo::cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device visible";
  run_lml_closed_form(Device::cuda(0));
}

/// A scratch kept from one call to the next (as a fit's search keeps it): the same value and
/// gradient to the last bit as a call with its own buffers, whatever the previous call's size,
/// kernel or gradient request.
void run_lml_scratch(const Device& device) {
  const auto backend = gpbo::make_backend(device);
  const std::unique_ptr<gpbo::LikelihoodScratch> scratch = backend->likelihood_scratch();
  if (device == Device::cpu()) ASSERT_NE(scratch, nullptr) << "the CPU backend reuses its buffers";
  std::vector<LmlCase> cases = lml_cases();
  // Sizes 20, 31, 40, then down and up again with the other kernel in between.
  std::vector<LmlCase> reversed(cases.rbegin(), cases.rend());
  cases.insert(cases.end(), reversed.begin(), reversed.end());
  for (std::size_t k = 0; k < cases.size(); ++k) {
    const LmlCase& c = cases[k];
    SCOPED_TRACE(c.name);
    VectorXd grad_own, grad_kept;
    const double own = backend->log_marginal_likelihood(c.kernel, c.h, c.X, c.y, &grad_own);
    if (k % 3 == 0) {
      // Without a gradient first: the derivative buffer stays from an earlier size.
      EXPECT_EQ(backend->log_marginal_likelihood(c.kernel, c.h, c.X, c.y, nullptr, scratch.get()),
                own);
    }
    const double kept =
        backend->log_marginal_likelihood(c.kernel, c.h, c.X, c.y, &grad_kept, scratch.get());
    EXPECT_EQ(kept, own);
    ASSERT_EQ(grad_kept.size(), grad_own.size());
    EXPECT_TRUE(grad_kept == grad_own)
        << "gradient with a scratch " << grad_kept.transpose() << " vs " << grad_own.transpose();
  }
}

TEST(LmlTest, ScratchGivesTheSameValuesCpu) { run_lml_scratch(Device::cpu()); }
TEST(LmlTest, ScratchGivesTheSameValuesCuda) {
  if (gpbo::cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device visible";
  run_lml_scratch(Device::cuda(0));
}

/// Gradient in theta = [log l (d), log s, log noise, mean] vs central differences.
void run_lml_gradient(const Device& device) {
  const auto backend = gpbo::make_backend(device);
  constexpr double kStep = 1e-4;
  for (const LmlCase& c : lml_cases()) {
    SCOPED_TRACE(c.name);
    const Eigen::Index d = c.X.cols();
    VectorXd grad;
    backend->log_marginal_likelihood(c.kernel, c.h, c.X, c.y, &grad);
    ASSERT_EQ(grad.size(), d + 3);
    for (Eigen::Index k = 0; k < d + 3; ++k) {
      auto f = [&](double dt) {
        GpHyperparameters h = c.h;
        if (k < d) {
          h.lengthscales(k) = std::exp(std::log(h.lengthscales(k)) + dt);
        } else if (k == d) {
          h.outputscale = std::exp(std::log(h.outputscale) + dt);
        } else if (k == d + 1) {
          h.noise = std::exp(std::log(h.noise) + dt);
        } else {
          h.mean += dt;
        }
        return backend->log_marginal_likelihood(c.kernel, h, c.X, c.y, nullptr);
      };
      const double fd = fd4(f, kStep);
      EXPECT_NEAR(grad(k), fd, kFdRelTol * std::max(1.0, std::abs(fd))) << "coordinate " << k;
    }
  }
}

TEST(LmlTest, GradientMatchesFiniteDifferencesCpu) { run_lml_gradient(Device::cpu()); }
TEST(LmlTest, GradientMatchesFiniteDifferencesCuda) {
  if (gpbo::cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device visible";
  run_lml_gradient(Device::cuda(0));
}

// ------------------------------------------------------------------ gradients of the posterior in
// x

void run_posterior_x_gradients(const Device& device) {
  const auto backend = gpbo::make_backend(device);
  std::mt19937_64 rng(77);
  constexpr double kStep = 1e-4;
  constexpr int kD = 3, kN = 25, kM = 8;
  for (KernelType kernel : kKernels) {
    for (int draw = 0; draw < 2; ++draw) {
      SCOPED_TRACE(kernel_name(kernel) + " draw " + std::to_string(draw));
      const MatrixXd X = random_unit(rng, kN, kD);
      const VectorXd y = random_normal(rng, kN);
      const GpHyperparameters h = random_hyper(rng, kD);
      const auto f = backend->factor(kernel, h, X, y);
      const MatrixXd Xc = random_unit(rng, kM, kD);
      VectorXd mean, var;
      MatrixXd dmean, dvar;
      f->predict(Xc, &mean, &var, &dmean, &dvar);
      ASSERT_EQ(dmean.rows(), kM);
      ASSERT_EQ(dmean.cols(), kD);
      ASSERT_EQ(dvar.rows(), kM);
      ASSERT_EQ(dvar.cols(), kD);
      for (int i = 0; i < kM; ++i) {
        for (int j = 0; j < kD; ++j) {
          auto shifted = [&](double dx, bool want_var) {
            MatrixXd x = Xc.row(i);
            x(0, j) += dx;
            VectorXd m1, v1;
            f->predict(x, &m1, &v1);
            return want_var ? v1(0) : m1(0);
          };
          const double fd_mean = fd4([&](double dx) { return shifted(dx, false); }, kStep);
          const double fd_var = fd4([&](double dx) { return shifted(dx, true); }, kStep);
          EXPECT_NEAR(dmean(i, j), fd_mean, kFdRelTol * std::max(1.0, std::abs(fd_mean)))
              << "point " << i << " coordinate " << j;
          EXPECT_NEAR(dvar(i, j), fd_var, kFdRelTol * std::max(1.0, std::abs(fd_var)))
              << "point " << i << " coordinate " << j;
        }
      }
    }
  }
}

TEST(PosteriorFactor, MeanAndVarianceGradientsCpu) { run_posterior_x_gradients(Device::cpu()); }
TEST(PosteriorFactor, MeanAndVarianceGradientsCuda) {
  if (gpbo::cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device visible";
  run_posterior_x_gradients(Device::cuda(0));
}

// ------------------------------------------------------------------ append and clone

void expect_same_posterior(const gpbo::PosteriorFactor& a, const gpbo::PosteriorFactor& b,
                           const MatrixXd& Xc, double tol) {
  VectorXd ma, va, mb, vb;
  a.predict(Xc, &ma, &va);
  b.predict(Xc, &mb, &vb);
  for (Eigen::Index i = 0; i < Xc.rows(); ++i) {
    EXPECT_NEAR(ma(i), mb(i), tol * (1.0 + std::abs(mb(i)))) << "row " << i;
    EXPECT_NEAR(va(i), vb(i), tol) << "row " << i;
  }
}

void run_factor_append(const Device& device) {
  const auto backend = gpbo::make_backend(device);
  std::mt19937_64 rng(5);
  constexpr int kD = 3, kN = 20;
  for (KernelType kernel : kKernels) {
    for (int k : {1, 3, 7}) {
      SCOPED_TRACE(kernel_name(kernel) + " k=" + std::to_string(k));
      const MatrixXd X = random_unit(rng, kN + k, kD);
      const VectorXd y = random_normal(rng, kN + k);
      const GpHyperparameters h = random_hyper(rng, kD);
      const auto fresh = backend->factor(kernel, h, X, y);
      auto grown = backend->factor(kernel, h, X.topRows(kN), y.head(kN));
      grown->append(X.bottomRows(k), y.tail(k));
      EXPECT_EQ(grown->size(), kN + k);
      const MatrixXd Xc = random_unit(rng, 10, kD);
      expect_same_posterior(*grown, *fresh, Xc, kAppendTol);
      expect_same_posterior(*grown, *fresh, X, kAppendTol);  // at the training points as well

      // One row at a time reaches the same posterior.
      auto stepwise = backend->factor(kernel, h, X.topRows(kN), y.head(kN));
      for (int r = 0; r < k; ++r) stepwise->append(X.row(kN + r), y.segment(kN + r, 1));
      EXPECT_EQ(stepwise->size(), kN + k);
      expect_same_posterior(*stepwise, *fresh, Xc, kAppendTol);

      // Gradients of the appended factor agree too.
      MatrixXd dm_a, dv_a, dm_b, dv_b;
      VectorXd m, v;
      grown->predict(Xc, &m, &v, &dm_a, &dv_a);
      fresh->predict(Xc, &m, &v, &dm_b, &dv_b);
      EXPECT_LE((dm_a - dm_b).cwiseAbs().maxCoeff(),
                kAppendTol * (1.0 + dm_b.cwiseAbs().maxCoeff()));
      EXPECT_LE((dv_a - dv_b).cwiseAbs().maxCoeff(),
                kAppendTol * (1.0 + dv_b.cwiseAbs().maxCoeff()));

      // Appending nothing changes nothing.
      grown->append(MatrixXd(0, kD), VectorXd(0));
      EXPECT_EQ(grown->size(), kN + k);
      expect_same_posterior(*grown, *fresh, Xc, kAppendTol);
    }
  }
}

TEST(PosteriorFactor, AppendEqualsFreshFactorCpu) { run_factor_append(Device::cpu()); }
TEST(PosteriorFactor, AppendEqualsFreshFactorCuda) {
  if (gpbo::cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device visible";
  run_factor_append(Device::cuda(0));
}

void run_factor_clone(const Device& device) {
  const auto backend = gpbo::make_backend(device);
  std::mt19937_64 rng(6);
  constexpr int kD = 2, kN = 12, kK = 4;
  const MatrixXd X = random_unit(rng, kN + kK, kD);
  const VectorXd y = random_normal(rng, kN + kK);
  const GpHyperparameters h = random_hyper(rng, kD);
  const MatrixXd Xc = random_unit(rng, 9, kD);
  for (KernelType kernel : kKernels) {
    SCOPED_TRACE(kernel_name(kernel));
    const auto original = backend->factor(kernel, h, X.topRows(kN), y.head(kN));
    VectorXd m0, v0;
    original->predict(Xc, &m0, &v0);

    auto copy = original->clone();
    ASSERT_NE(copy, nullptr);
    EXPECT_EQ(copy->size(), kN);
    EXPECT_EQ(copy->jitter(), original->jitter());
    expect_same_posterior(*copy, *original, Xc, 0.0);

    copy->append(X.bottomRows(kK), y.tail(kK));
    EXPECT_EQ(copy->size(), kN + kK);
    EXPECT_EQ(original->size(), kN);
    VectorXd m1, v1;
    original->predict(Xc, &m1, &v1);
    EXPECT_EQ(m1, m0);  // bit-identical: the original was not touched
    EXPECT_EQ(v1, v0);
    const auto all = backend->factor(kernel, h, X, y);
    expect_same_posterior(*copy, *all, Xc, kAppendTol);

    // And the other way round: growing the original leaves a clone alone.
    auto original2 = backend->factor(kernel, h, X.topRows(kN), y.head(kN));
    const auto snapshot = original2->clone();
    original2->append(X.bottomRows(kK), y.tail(kK));
    EXPECT_EQ(snapshot->size(), kN);
    VectorXd m2, v2;
    snapshot->predict(Xc, &m2, &v2);
    EXPECT_EQ(m2, m0);
    EXPECT_EQ(v2, v0);
  }
}

TEST(PosteriorFactor, CloneIsIndependentCpu) { run_factor_clone(Device::cpu()); }
TEST(PosteriorFactor, CloneIsIndependentCuda) {
  if (gpbo::cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device visible";
  run_factor_clone(Device::cuda(0));
}

// ------------------------------------------------------------------ jitter ladder

void expect_finite(const gpbo::Prediction& p) {
  EXPECT_TRUE(p.mean.allFinite());
  EXPECT_TRUE(p.stddev.allFinite());
  EXPECT_TRUE((p.stddev.array() >= 0.0).all());
}

/// 30 copies of one point. With noise 1e-12 the matrix s 11^T + noise I is still positive
/// definite in double precision (condition number ~3e13 < 1/eps), so dpotrf may succeed
/// without jitter; with noise below the rounding of the diagonal (1e-17, 0) K is exactly the
/// rank-one s 11^T and the jitter ladder must rescue the factorization.
void run_jitter_ladder(const Device& device) {
  const auto backend = gpbo::make_backend(device);
  std::mt19937_64 rng(8);
  constexpr int kCopies = 30;
  const MatrixXd X = MatrixXd::Constant(kCopies, 2, 0.25).rowwise() +
                     Eigen::RowVector2d(0.0, 0.5);  // every row (0.25, 0.75)
  const VectorXd y = random_normal(rng, kCopies, 0.3, 0.01);
  const MatrixXd Xc = random_unit(rng, 5, 2);
  for (KernelType kernel : kKernels) {
    for (double noise : {1e-12, 1e-17, 0.0}) {
      std::ostringstream label;
      label << kernel_name(kernel) << " noise=" << noise;
      SCOPED_TRACE(label.str());
      GpHyperparameters h = fixed_hyper_2d();
      h.noise = noise;
      const bool singular = noise < 1e-16 * h.outputscale;
      std::unique_ptr<gpbo::PosteriorFactor> f;
      ASSERT_NO_THROW(f = backend->factor(kernel, h, X, y));
      if (singular) {
        EXPECT_GT(f->jitter(), 0.0) << "an exactly singular K needs the jitter ladder";
      } else {
        EXPECT_GE(f->jitter(), 0.0);
      }
      EXPECT_LE(f->jitter(), 1e-3 * (h.outputscale + noise));  // the top rung
      VectorXd mean, var;
      f->predict(Xc, &mean, &var);
      EXPECT_TRUE(mean.allFinite());
      EXPECT_TRUE(var.allFinite());
      EXPECT_TRUE((var.array() >= 0.0).all());

      GaussianProcess gp(options_for(kernel), device);
      ASSERT_NO_THROW(gp.condition(X, y, h));
      if (singular) {
        EXPECT_GT(gp.factor().jitter(), 0.0);
      }
      const gpbo::Prediction p = gp.predict(X.topRows(1));
      expect_finite(p);
      EXPECT_NEAR(p.mean(0), y.mean(), 1e-3);
    }
  }
}

/// A covariance that no jitter can rescue is reported as NumericalError, not returned.
void run_non_finite_covariance_throws(const Device& device) {
  const auto backend = gpbo::make_backend(device);
  std::mt19937_64 rng(9);
  const MatrixXd X = random_unit(rng, 5, 2);
  const VectorXd y = random_normal(rng, 5);
  GpHyperparameters h = fixed_hyper_2d();
  h.outputscale = std::numeric_limits<double>::infinity();
  for (KernelType kernel : kKernels) {
    EXPECT_THROW(backend->factor(kernel, h, X, y), gpbo::NumericalError);
    EXPECT_THROW(backend->log_marginal_likelihood(kernel, h, X, y, nullptr), gpbo::NumericalError);
  }
}

TEST(PosteriorFactor, NonFiniteCovarianceThrowsCpu) {
  run_non_finite_covariance_throws(Device::cpu());
}
TEST(PosteriorFactor, NonFiniteCovarianceThrowsCuda) {
  if (gpbo::cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device visible";
  run_non_finite_covariance_throws(Device::cuda(0));
}

TEST(PosteriorFactor, JitterLadderRescuesDuplicatesCpu) { run_jitter_ladder(Device::cpu()); }
TEST(PosteriorFactor, JitterLadderRescuesDuplicatesCuda) {
  if (gpbo::cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device visible";
  run_jitter_ladder(Device::cuda(0));
}

// ------------------------------------------------------------------ GaussianProcess::fit

void run_fit_duplicate_points(const Device& device) {
  std::mt19937_64 rng(21);
  for (KernelType kernel : kKernels) {
    SCOPED_TRACE(kernel_name(kernel));
    MatrixXd X(12, 2);
    X.topRows(10) = random_unit(rng, 10, 2);
    X.row(10) = X.row(0);
    X.row(11) = X.row(0);
    const VectorXd y = smooth_values(X);
    GaussianProcess gp(options_for(kernel), device);
    ASSERT_NO_THROW(gp.fit(X, y, 1));
    const gpbo::Prediction p = gp.predict(X);
    expect_finite(p);
    const double ys = sample_std(y);
    EXPECT_NEAR(p.mean(0), y(0), 0.05 * ys);
    EXPECT_NEAR(p.mean(10), y(0), 0.05 * ys);
    EXPECT_NEAR(p.mean(11), y(0), 0.05 * ys);
  }
}

TEST(GpFit, DuplicatePointsCpu) { run_fit_duplicate_points(Device::cpu()); }
TEST(GpFit, DuplicatePointsCuda) {
  if (gpbo::cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device visible";
  run_fit_duplicate_points(Device::cuda(0));
}

void run_fit_constant_y(const Device& device) {
  std::mt19937_64 rng(22);
  constexpr double kConst = 3.7;
  for (KernelType kernel : kKernels) {
    SCOPED_TRACE(kernel_name(kernel));
    const MatrixXd X = random_unit(rng, 8, 2);
    const VectorXd y = VectorXd::Constant(8, kConst);
    GaussianProcess gp(options_for(kernel), device);
    ASSERT_NO_THROW(gp.fit(X, y, 2));
    EXPECT_EQ(gp.y_scale(), 1.0);
    MatrixXd Xc(13, 2);
    Xc.topRows(8) = X;
    Xc.bottomRows(5) = random_unit(rng, 5, 2);
    const gpbo::Prediction p = gp.predict(Xc);
    expect_finite(p);
    for (Eigen::Index i = 0; i < Xc.rows(); ++i) {
      EXPECT_NEAR(p.mean(i), kConst, 1e-9 * kConst) << "row " << i;
    }
  }
}

TEST(GpFit, ConstantYCpu) { run_fit_constant_y(Device::cpu()); }
TEST(GpFit, ConstantYCuda) {
  if (gpbo::cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device visible";
  run_fit_constant_y(Device::cuda(0));
}

void run_fit_single_observation(const Device& device) {
  for (KernelType kernel : kKernels) {
    SCOPED_TRACE(kernel_name(kernel));
    const MatrixXd X = Eigen::RowVector2d(0.4, 0.6);
    const VectorXd y = VectorXd::Constant(1, -2.5);
    GaussianProcess gp(options_for(kernel), device);
    ASSERT_NO_THROW(gp.fit(X, y, 3));
    MatrixXd Xc(3, 2);
    Xc << 0.4, 0.6, 0.0, 0.0, 1.0, 1.0;
    const gpbo::Prediction p = gp.predict(Xc);
    expect_finite(p);
    EXPECT_NEAR(p.mean(0), -2.5, 1e-6);
    EXPECT_TRUE(gp.hyperparameters().lengthscales.allFinite());
  }
}

TEST(GpFit, SingleObservationCpu) { run_fit_single_observation(Device::cpu()); }
TEST(GpFit, SingleObservationCuda) {
  if (gpbo::cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device visible";
  run_fit_single_observation(Device::cuda(0));
}

void run_fit_scale_invariance(const Device& device) {
  std::mt19937_64 rng(23);
  for (KernelType kernel : kKernels) {
    SCOPED_TRACE(kernel_name(kernel));
    const MatrixXd X = random_unit(rng, 15, 2);
    const VectorXd y = smooth_values(X);
    const VectorXd y_big = 1e6 * y;
    GaussianProcess gp(options_for(kernel), device), gp_big(options_for(kernel), device);
    ASSERT_NO_THROW(gp.fit(X, y, 4));
    ASSERT_NO_THROW(gp_big.fit(X, y_big, 4));
    const GpHyperparameters& a = gp.hyperparameters();
    const GpHyperparameters& b = gp_big.hyperparameters();
    for (Eigen::Index j = 0; j < a.lengthscales.size(); ++j) {
      EXPECT_NEAR(b.lengthscales(j), a.lengthscales(j),
                  kScaleInvarianceHyperTol * a.lengthscales(j));
    }
    EXPECT_NEAR(b.outputscale, a.outputscale, kScaleInvarianceHyperTol * a.outputscale);
    EXPECT_NEAR(b.noise, a.noise, kScaleInvarianceHyperTol * a.noise);
    EXPECT_NEAR(b.mean, a.mean, kScaleInvarianceHyperTol * (1.0 + std::abs(a.mean)));
    EXPECT_NEAR(gp_big.log_posterior(), gp.log_posterior(),
                kScaleInvarianceHyperTol * (1.0 + std::abs(gp.log_posterior())));

    MatrixXd Xc(20, 2);
    Xc.topRows(5) = X.topRows(5);
    Xc.bottomRows(15) = random_unit(rng, 15, 2);
    const gpbo::Prediction p = gp.predict(Xc);
    const gpbo::Prediction q = gp_big.predict(Xc);
    expect_finite(q);
    const double ys = sample_std(y);
    for (Eigen::Index i = 0; i < Xc.rows(); ++i) {
      EXPECT_NEAR(q.mean(i) / 1e6, p.mean(i), kScaleInvariancePredTol * ys) << "row " << i;
      EXPECT_NEAR(q.stddev(i) / 1e6, p.stddev(i), kScaleInvariancePredTol * ys) << "row " << i;
    }
  }
}

TEST(GpFit, ScaledYIsInvariantCpu) { run_fit_scale_invariance(Device::cpu()); }

TEST(GpFit, AnyFiniteYIsStandardizedWithoutOverflow) {
  // Values near the ends of the double range once made the variance infinite (or the mean's
  // rounding error enormous) and every fit fail.
  std::mt19937_64 rng(8);
  const MatrixXd X = random_unit(rng, 12, 2);
  const VectorXd y = smooth_values(X);
  GaussianProcess ref(GpOptions{}, Device::cpu());
  ref.fit(X, y, 1);
  for (double scale : {1e300, 1e-300, 1e307}) {
    GaussianProcess gp(GpOptions{}, Device::cpu());
    ASSERT_NO_THROW(gp.fit(X, scale * y, 1)) << scale;
    EXPECT_NEAR(gp.hyperparameters().outputscale, ref.hyperparameters().outputscale,
                1e-6 * ref.hyperparameters().outputscale)
        << scale;
    const gpbo::Prediction p = gp.predict(X.topRows(3));
    expect_finite(p);
  }
  // Constant values, however large, and the widest spread a double holds.
  for (const VectorXd& v :
       {VectorXd(VectorXd::Constant(12, 1e300)), VectorXd(VectorXd::Constant(12, -1.7e308)),
        VectorXd(VectorXd::LinSpaced(12, -1.0, 1.0) * 1.7e308),
        VectorXd(VectorXd::LinSpaced(12, 0.0, 5e-324 * 11))}) {
    GaussianProcess gp(GpOptions{}, Device::cpu());
    ASSERT_NO_THROW(gp.fit(X, v, 1)) << v.transpose();
    expect_finite(gp.predict(X.topRows(3)));
  }
}
TEST(GpFit, ScaledYIsInvariantCuda) {
  if (gpbo::cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device visible";
  run_fit_scale_invariance(Device::cuda(0));
}

void run_fit_rejects_bad_input(const Device& device) {
  std::mt19937_64 rng(24);
  const MatrixXd X = random_unit(rng, 6, 2);
  const VectorXd y = random_normal(rng, 6);
  GaussianProcess gp(GpOptions{}, device);
  EXPECT_FALSE(gp.fitted());
  EXPECT_THROW(gp.predict(X), gpbo::InvalidArgument);  // before any fit
  EXPECT_THROW(gp.factor(), gpbo::InvalidArgument);

  EXPECT_THROW(gp.fit(X, y.head(5)), gpbo::InvalidArgument);                 // row count mismatch
  EXPECT_THROW(gp.fit(MatrixXd(0, 2), VectorXd(0)), gpbo::InvalidArgument);  // empty
  MatrixXd X_nan = X;
  X_nan(2, 1) = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(gp.fit(X_nan, y), gpbo::InvalidArgument);
  VectorXd y_nan = y;
  y_nan(3) = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(gp.fit(X, y_nan), gpbo::InvalidArgument);
  VectorXd y_inf = y;
  y_inf(0) = std::numeric_limits<double>::infinity();
  EXPECT_THROW(gp.fit(X, y_inf), gpbo::InvalidArgument);

  GpHyperparameters h3;  // d = 3 hyperparameters for d = 2 data
  h3.lengthscales = Eigen::Vector3d(0.5, 0.5, 0.5);
  EXPECT_THROW(gp.condition(X, y, h3), gpbo::InvalidArgument);

  ASSERT_NO_THROW(gp.fit(X, y));
  EXPECT_TRUE(gp.fitted());
  EXPECT_THROW(gp.predict(MatrixXd::Zero(2, 3)), gpbo::InvalidArgument);  // wrong column count
}

TEST(GpFit, RejectsBadInputCpu) { run_fit_rejects_bad_input(Device::cpu()); }
TEST(GpFit, RejectsBadInputCuda) {
  if (gpbo::cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device visible";
  run_fit_rejects_bad_input(Device::cuda(0));
}

/// The MAP fit on a smooth 2-d function: better log posterior than the prior-mode start,
/// sensible hyperparameters inside the box, and held-out predictions beating the mean.
void run_fit_smooth_function(const Device& device) {
  std::mt19937_64 rng(25);
  for (KernelType kernel : kKernels) {
    SCOPED_TRACE(kernel_name(kernel));
    const MatrixXd X = random_unit(rng, 40, 2);
    const VectorXd y = smooth_values(X);
    const GpOptions opt = options_for(kernel);
    GaussianProcess gp(opt, device);
    ASSERT_NO_THROW(gp.fit(X, y, 7));
    const GpHyperparameters& h = gp.hyperparameters();
    ASSERT_EQ(h.lengthscales.size(), 2);
    for (Eigen::Index j = 0; j < 2; ++j) {
      EXPECT_TRUE(std::isfinite(h.lengthscales(j)));
      EXPECT_GE(h.lengthscales(j), opt.min_lengthscale * (1.0 - 1e-12));
      EXPECT_LE(h.lengthscales(j), opt.max_lengthscale * (1.0 + 1e-12));
      // The function varies on a scale of order one: neither white noise nor a constant.
      EXPECT_GT(h.lengthscales(j), 0.05);
      EXPECT_LT(h.lengthscales(j), 20.0);
    }
    EXPECT_GE(h.noise, opt.min_noise * (1.0 - 1e-12));
    EXPECT_LE(h.noise, opt.max_noise * (1.0 + 1e-12));
    EXPECT_LT(h.noise, 1e-2);  // noiseless data
    EXPECT_GE(h.outputscale, opt.min_outputscale * (1.0 - 1e-12));
    EXPECT_LE(h.outputscale, opt.max_outputscale * (1.0 + 1e-12));

    // log_posterior() is LML + priors at the fitted hyperparameters, and beats the start.
    const VectorXd y_std = (y.array() - gp.y_mean()) / gp.y_scale();
    const double lp_fit = log_posterior_by_parts(gp.backend(), kernel, h, X, y_std);
    EXPECT_NEAR(gp.log_posterior(), lp_fit, 1e-8 * std::max(1.0, std::abs(lp_fit)));
    GpHyperparameters start;
    start.lengthscales = VectorXd::Constant(2, gpbo::lengthscale_prior(2).mode());
    start.noise = gpbo::noise_prior().mode();
    start.outputscale = 1.0;
    start.mean = 0.0;
    const double lp_start = log_posterior_by_parts(gp.backend(), kernel, start, X, y_std);
    EXPECT_GT(gp.log_posterior(), lp_start);

    const MatrixXd Xt = random_unit(rng, 200, 2);
    const VectorXd yt = smooth_values(Xt);
    const gpbo::Prediction p = gp.predict(Xt);
    expect_finite(p);
    const double mse_gp = (p.mean - yt).squaredNorm() / 200.0;
    const double mse_mean = (yt.array() - y.mean()).square().sum() / 200.0;
    EXPECT_LT(mse_gp, 0.01 * mse_mean) << "gp " << mse_gp << " vs mean predictor " << mse_mean;
  }
}

TEST(GpFit, SmoothFunctionImprovesLogPosteriorCpu) { run_fit_smooth_function(Device::cpu()); }
TEST(GpFit, SmoothFunctionImprovesLogPosteriorCuda) {
  if (gpbo::cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device visible";
  run_fit_smooth_function(Device::cuda(0));
}

/// A warm start from a previous fit lands on the same optimum (or a better one).
void run_fit_warm_start(const Device& device) {
  std::mt19937_64 rng(26);
  const MatrixXd X = random_unit(rng, 30, 2);
  const VectorXd y = smooth_values(X);
  GaussianProcess cold(GpOptions{}, device), warm(GpOptions{}, device);
  cold.fit(X, y, 9);
  const GpHyperparameters h0 = cold.hyperparameters();
  warm.fit(X, y, 9, &h0);
  EXPECT_GE(warm.log_posterior(), cold.log_posterior() - 1e-6 * std::abs(cold.log_posterior()));
}

TEST(GpFit, WarmStartCpu) { run_fit_warm_start(Device::cpu()); }
TEST(GpFit, WarmStartCuda) {
  if (gpbo::cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device visible";
  run_fit_warm_start(Device::cuda(0));
}

}  // namespace
