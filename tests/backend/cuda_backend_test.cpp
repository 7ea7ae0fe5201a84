// The CUDA backend against the CPU backend: likelihood and gradient, posterior, acquisition
// values and gradients, the chosen candidate, append and clone, for n up to 5,000, with named
// tolerances. Every case skips with a message when no CUDA device is visible; the top-k
// contract also runs on the CPU.
//
// Compiled twice: into gpbo_tests (the real device) and, with GPBO_CUDA_EMULATION, into
// gpbo_cuda_emulation_tests, where cuda:0 is cuda/cuda_backend.cu on the host emulation of
// tests/backend/cuda_emulation and the same bodies run in CI (n up to 1,000 there, for time).
#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "backend/backend.hpp"
#include "backend/cuda_entry.hpp"
#include "gpbo/device.hpp"
#include "gpbo/error.hpp"
#include "gpbo/gp.hpp"

namespace {

using Eigen::MatrixXd;
using Eigen::VectorXd;
using gpbo::Device;
using gpbo::GpHyperparameters;
using gpbo::KernelType;

// Tolerances of GPU vs CPU in double precision, for n = 1,000; scaled by max(1, n / 1,000)
// because the rounding error of the Cholesky and the solves grows with n (and the condition
// number, ~ n s / noise here).
/// LML, relative to max(1, |LML|).
constexpr double kLmlRelTol = 1e-9;
/// Gradient of the LML, relative to its largest entry.
constexpr double kGradRelTol = 1e-6;
/// Posterior mean (relative to 1 + |mean|) and variance (relative to the outputscale).
constexpr double kPosteriorTol = 1e-8;
/// Posterior x-gradients, relative to the largest entry.
constexpr double kPosteriorGradTol = 1e-6;
/// Acquisition values (relative to 1 + |value|) and gradients (relative to the largest entry).
constexpr double kAcqTol = 1e-6;
/// Float32 scoring against double: posterior mean and variance, absolute, in standardized
/// units (outputscale 1). An accuracy target, measured (and printed) by the float32 test.
constexpr double kF32MeanTol = 2e-3;
constexpr double kF32VarTol = 2e-3;

double scale_for(int n) { return std::max(1.0, n / 1000.0); }

bool have_cuda() { return gpbo::cuda_device_count() > 0; }
std::unique_ptr<gpbo::Backend> cuda_backend(const gpbo::detail::CudaBackendOptions& opt = {}) {
  return gpbo::detail::make_cuda_backend(Device::cuda(0), opt);
}
/// Observation counts of the agreement tests (the emulation computes on the host).
#if defined(GPBO_CUDA_EMULATION)
const std::vector<int> kSizes = {100, 1000};
#else
const std::vector<int> kSizes = {100, 1000, 5000};
#endif
#define SKIP_WITHOUT_CUDA() \
  if (!have_cuda()) GTEST_SKIP() << "no CUDA device visible"

struct Problem {
  MatrixXd X;
  VectorXd y;
  GpHyperparameters h;
};

/// n points of [0,1]^d with a smooth response plus noise, and fixed hyperparameters.
Problem make_problem(int n, int d, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::normal_distribution<double> g;
  Problem p{MatrixXd(n, d), VectorXd(n), {}};
  for (int i = 0; i < n; ++i) {
    double v = 0.0;
    for (int j = 0; j < d; ++j) {
      p.X(i, j) = u(rng);
      v += std::sin(3.0 * p.X(i, j) + j);
    }
    p.y(i) = v / std::sqrt(static_cast<double>(d)) + 0.05 * g(rng);
  }
  p.h.lengthscales = VectorXd::LinSpaced(d, 0.3, 0.8);
  p.h.outputscale = 1.3;
  p.h.noise = 1e-3;
  p.h.mean = 0.1;
  return p;
}

MatrixXd random_unit(int m, int d, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  MatrixXd X(m, d);
  for (int j = 0; j < d; ++j) {
    for (int i = 0; i < m; ++i) X(i, j) = u(rng);
  }
  return X;
}

double max_abs(const MatrixXd& a) { return a.size() ? a.cwiseAbs().maxCoeff() : 0.0; }

std::string label(KernelType k, int n) {
  return std::string(k == KernelType::kRbf ? "rbf" : "matern52") + " n=" + std::to_string(n);
}

// ------------------------------------------------------------------ likelihood

TEST(CudaAgreement, LogMarginalLikelihoodAndGradient) {
  SKIP_WITHOUT_CUDA();
  const auto cpu = gpbo::make_cpu_backend();
  const auto gpu = cuda_backend();
  for (int n : kSizes) {
    for (KernelType kernel : {KernelType::kMatern52, KernelType::kRbf}) {
      if (n == 5000 && kernel == KernelType::kRbf) continue;  // CPU time
      SCOPED_TRACE(label(kernel, n));
      const Problem p = make_problem(n, 6, 10 + n);
      VectorXd g_cpu, g_gpu;
      const double l_cpu = cpu->log_marginal_likelihood(kernel, p.h, p.X, p.y, &g_cpu);
      const double l_gpu = gpu->log_marginal_likelihood(kernel, p.h, p.X, p.y, &g_gpu);
      const double l_only = gpu->log_marginal_likelihood(kernel, p.h, p.X, p.y, nullptr);
      ASSERT_EQ(g_gpu.size(), g_cpu.size());
      const double s = scale_for(n);
      const double lml_err = std::abs(l_gpu - l_cpu) / std::max(1.0, std::abs(l_cpu));
      const double grad_err = max_abs(g_gpu - g_cpu) / std::max(1.0, max_abs(g_cpu));
      std::cout << "[ measured ] " << label(kernel, n) << ": LML rel. diff " << lml_err
                << ", gradient rel. diff " << grad_err << "\n";
      EXPECT_LE(lml_err, kLmlRelTol * s);
      EXPECT_EQ(l_only, l_gpu);
      EXPECT_LE(grad_err, kGradRelTol * s);
    }
  }
}

// ------------------------------------------------------------------ posterior

TEST(CudaAgreement, PosteriorMeanVarianceAndGradients) {
  SKIP_WITHOUT_CUDA();
  const auto cpu = gpbo::make_cpu_backend();
  const auto gpu = cuda_backend();
  for (int n : kSizes) {
    const KernelType kernel = KernelType::kMatern52;
    SCOPED_TRACE(label(kernel, n));
    const Problem p = make_problem(n, 5, 20 + n);
    const auto fc = cpu->factor(kernel, p.h, p.X, p.y);
    const auto fg = gpu->factor(kernel, p.h, p.X, p.y);
    EXPECT_EQ(fg->size(), n);
    EXPECT_EQ(fg->jitter(), fc->jitter());
    const double s = scale_for(n);
    const MatrixXd Xc = random_unit(3000, 5, 30 + n);
    VectorXd mc, vc, mg, vg;
    fc->predict(Xc, &mc, &vc);
    fg->predict(Xc, &mg, &vg);
    const double mean_err = ((mg - mc).array().abs() / (1.0 + mc.array().abs())).maxCoeff();
    const double var_err = max_abs(vg - vc) / p.h.outputscale;
    std::cout << "[ measured ] n=" << n << ": mean rel. diff " << mean_err << ", var diff "
              << var_err << "\n";
    EXPECT_LE(mean_err, kPosteriorTol * s);
    EXPECT_LE(var_err, kPosteriorTol * s);

    const MatrixXd Xg = Xc.topRows(200);
    MatrixXd dmc, dvc, dmg, dvg;
    fc->predict(Xg, &mc, &vc, &dmc, &dvc);
    fg->predict(Xg, &mg, &vg, &dmg, &dvg);
    EXPECT_LE(max_abs(dmg - dmc) / std::max(1.0, max_abs(dmc)), kPosteriorGradTol * s);
    EXPECT_LE(max_abs(dvg - dvc) / std::max(1.0, max_abs(dvc)), kPosteriorGradTol * s);
    // Each gradient alone equals the one computed together with the other.
    MatrixXd dm_only, dv_only;
    fg->predict(Xg, nullptr, nullptr, &dm_only, nullptr);
    fg->predict(Xg, nullptr, nullptr, nullptr, &dv_only);
    EXPECT_LE(max_abs(dm_only - dmg), 1e-12 * std::max(1.0, max_abs(dmg)));
    EXPECT_LE(max_abs(dv_only - dvg), 1e-12 * std::max(1.0, max_abs(dvg)));

    const MatrixXd A = Xc.topRows(16), B = Xc.middleRows(16, 9);
    EXPECT_LE(max_abs(fg->covariance(A, B) - fc->covariance(A, B)), kPosteriorTol * s);
    EXPECT_LE(max_abs(fg->covariance(A, A) - fc->covariance(A, A)), kPosteriorTol * s);
  }
}

// ------------------------------------------------------------------ acquisition and choice

TEST(CudaAgreement, AcquisitionValuesGradientsAndChosenCandidate) {
  SKIP_WITHOUT_CUDA();
  const auto cpu = gpbo::make_cpu_backend();
  const auto gpu = cuda_backend();
  for (int n : kSizes) {
    SCOPED_TRACE("n=" + std::to_string(n));
    const Problem p = make_problem(n, 4, 40 + n);
    const auto fc = cpu->factor(KernelType::kMatern52, p.h, p.X, p.y);
    const auto fg = gpu->factor(KernelType::kMatern52, p.h, p.X, p.y);
    const double s = scale_for(n);
    const MatrixXd Xc = random_unit(20000, 4, 50 + n);
    for (gpbo::AcquisitionType type : {gpbo::AcquisitionType::kLogEI, gpbo::AcquisitionType::kUCB,
                                       gpbo::AcquisitionType::kPI, gpbo::AcquisitionType::kEI}) {
      SCOPED_TRACE("acquisition " + gpbo::to_string(type));
      gpbo::AcquisitionParams acq;
      acq.type = type;
      acq.best_f = p.y.maxCoeff() - p.h.mean;
      VectorXd vc, vg;
      cpu->top_k(*fc, acq, Xc, 0, nullptr);  // the CPU's chunked default path runs
      const std::vector<Eigen::Index> top_c = cpu->top_k(*fc, acq, Xc, 5, &vc);
      const std::vector<Eigen::Index> top_g = gpu->top_k(*fg, acq, Xc, 5, &vg);
      ASSERT_EQ(top_g.size(), 5u);
      VectorXd all_c;
      cpu->score(*fc, acq, Xc.topRows(4096), &all_c, nullptr);
      VectorXd all_g;
      gpu->score(*fg, acq, Xc.topRows(4096), &all_g, nullptr);
      EXPECT_LE(((all_g - all_c).array().abs() / (1.0 + all_c.array().abs())).maxCoeff(),
                kAcqTol * s);
      // The chosen candidate: the same row, unless the two are tied within tolerance.
      if (top_g[0] != top_c[0]) {
        VectorXd at_gpu_choice;
        cpu->score(*fc, acq, Xc.row(top_g[0]), &at_gpu_choice, nullptr);
        EXPECT_NEAR(at_gpu_choice(0), vc(0), kAcqTol * s * (1.0 + std::abs(vc(0))))
            << "GPU chose row " << top_g[0] << ", CPU row " << top_c[0];
      }
      EXPECT_NEAR(vg(0), vc(0), kAcqTol * s * (1.0 + std::abs(vc(0))));

      const MatrixXd Xg = Xc.topRows(256);
      VectorXd val_c, val_g;
      MatrixXd gc, gg;
      cpu->score(*fc, acq, Xg, &val_c, &gc);
      gpu->score(*fg, acq, Xg, &val_g, &gg);
      EXPECT_LE(((val_g - val_c).array().abs() / (1.0 + val_c.array().abs())).maxCoeff(),
                kAcqTol * s);
      EXPECT_LE(max_abs(gg - gc) / std::max(1.0, max_abs(gc)), kAcqTol * s);
    }
  }
}

// ------------------------------------------------------------------ append, clone, cholesky

TEST(CudaAgreement, AppendCloneAndCholesky) {
  SKIP_WITHOUT_CUDA();
  const auto cpu = gpbo::make_cpu_backend();
  const auto gpu = cuda_backend();
  const int n = 1000, k = 7;
  const Problem p = make_problem(n + k, 3, 60);
  const MatrixXd Xc = random_unit(500, 3, 61);
  const auto fc = cpu->factor(KernelType::kRbf, p.h, p.X.topRows(n), p.y.head(n));
  const auto fg = gpu->factor(KernelType::kRbf, p.h, p.X.topRows(n), p.y.head(n));
  const auto grown = fg->clone();
  grown->append(p.X.bottomRows(k), p.y.tail(k));
  fc->append(p.X.bottomRows(k), p.y.tail(k));
  EXPECT_EQ(grown->size(), n + k);
  EXPECT_EQ(fg->size(), n);
  VectorXd mc, vc, mg, vg;
  fc->predict(Xc, &mc, &vc);
  grown->predict(Xc, &mg, &vg);
  EXPECT_LE(((mg - mc).array().abs() / (1.0 + mc.array().abs())).maxCoeff(), kPosteriorTol);
  EXPECT_LE(max_abs(vg - vc), kPosteriorTol);

  // Joint covariance factor with the jitter ladder: a rank-one matrix needs a rung.
  const MatrixXd S = VectorXd::Ones(6) * VectorXd::Ones(6).transpose();
  double jc = -1.0, jg = -1.0;
  const MatrixXd Lc = cpu->cholesky(S, &jc);
  const MatrixXd Lg = gpu->cholesky(S, &jg);
  EXPECT_GT(jg, 0.0);
  EXPECT_EQ(jg, jc);
  EXPECT_LE(max_abs(Lg - Lc), 1e-12);
  MatrixXd bad = S;
  bad(0, 0) = std::nan("");
  EXPECT_THROW(gpu->cholesky(bad), gpbo::NumericalError);
}

// ------------------------------------------------------------------ float32 scoring

TEST(CudaFloat32, ScoringAccuracyAgainstDouble) {
  SKIP_WITHOUT_CUDA();
  gpbo::detail::CudaBackendOptions opt;
  opt.scoring = gpbo::ScorePrecision::kFloat;
  const auto f32 = cuda_backend(opt);
  const auto f64 = cuda_backend();
  for (int n : kSizes) {
    if (n < 1000) continue;
    SCOPED_TRACE("n=" + std::to_string(n));
    Problem p = make_problem(n, 6, 70 + n);
    p.h.outputscale = 1.0;
    const auto fa = f64->factor(KernelType::kMatern52, p.h, p.X, p.y);
    const auto fb = f32->factor(KernelType::kMatern52, p.h, p.X, p.y);
    const MatrixXd Xc = random_unit(20000, 6, 80 + n);
    // UCB with beta = 0 is the mean, with a huge beta essentially the standard deviation.
    gpbo::AcquisitionParams mean_acq;
    mean_acq.type = gpbo::AcquisitionType::kUCB;
    mean_acq.beta = 0.0;
    VectorXd m64, m32, v64;
    f64->score(*fa, mean_acq, Xc, &m64, nullptr);
    f32->score(*fb, mean_acq, Xc, &m32, nullptr);
    fa->predict(Xc, nullptr, &v64);
    gpbo::AcquisitionParams logei;
    logei.best_f = p.y.maxCoeff() - p.h.mean;
    VectorXd a64, a32;
    const auto top64 = f64->top_k(*fa, logei, Xc, 10, &a64);
    const auto top32 = f32->top_k(*fb, logei, Xc, 10, &a32);
    // The variance through UCB: value = mean + sqrt(beta) sigma.
    gpbo::AcquisitionParams sd_acq;
    sd_acq.type = gpbo::AcquisitionType::kUCB;
    sd_acq.beta = 1.0;
    VectorXd u32;
    f32->score(*fb, sd_acq, Xc, &u32, nullptr);
    const VectorXd var32 = (u32 - m32).array().square();
    const double mean_err = max_abs(m32 - m64);
    const double var_err = max_abs(var32 - v64);
    const double top_gap = std::abs(a32(0) - a64(0));
    std::cout << "[ measured ] float32 n=" << n << ": max |mean error| " << mean_err
              << ", max |var error| " << var_err << ", best LogEI " << a64(0) << " vs " << a32(0)
              << " (rows " << top64[0] << ", " << top32[0] << ")\n";
    RecordProperty("f32_mean_err_n" + std::to_string(n), std::to_string(mean_err));
    RecordProperty("f32_var_err_n" + std::to_string(n), std::to_string(var_err));
    EXPECT_LE(mean_err, kF32MeanTol);
    EXPECT_LE(var_err, kF32VarTol);
    // The float winner is among the double path's ten best.
    EXPECT_NE(std::find(top64.begin(), top64.end(), top32[0]), top64.end());
    // Gradients always take the double path, so the float backend's match the double one's.
    VectorXd val32, val64;
    MatrixXd g32, g64;
    f32->score(*fb, logei, Xc.topRows(10), &val32, &g32);
    f64->score(*fa, logei, Xc.topRows(10), &val64, &g64);
    EXPECT_LE(max_abs(g32 - g64), 1e-12 * std::max(1.0, max_abs(g64)));
  }
}

// ------------------------------------------------------------------ small fit and score
// (the compute-sanitizer case of bench/device_check.sh)

TEST(CudaBackend, SmallFitAndScore) {
  SKIP_WITHOUT_CUDA();
  const Problem p = make_problem(64, 3, 90);
  gpbo::GaussianProcess gp({}, Device::cuda(0));
  gp.fit(p.X, p.y, 1);
  ASSERT_TRUE(gp.fitted());
  EXPECT_EQ(gp.backend().device(), Device::cuda(0));
  const MatrixXd Xc = random_unit(5000, 3, 91);
  const gpbo::Prediction pred = gp.predict(Xc);
  EXPECT_TRUE(pred.mean.allFinite());
  EXPECT_TRUE(pred.stddev.allFinite());
  gpbo::AcquisitionParams acq;
  acq.best_f = 1.0;
  VectorXd v;
  MatrixXd g;
  gp.backend().score(gp.factor(), acq, Xc, &v, &g);
  EXPECT_TRUE(v.allFinite());
  EXPECT_TRUE(g.allFinite());
  auto f = gp.factor().clone();
  f->append(Xc.topRows(3), VectorXd::Zero(3));
  EXPECT_EQ(f->size(), 67);
  const auto top = gp.backend().top_k(*f, acq, Xc, 3, &v);
  EXPECT_EQ(top.size(), 3u);
  EXPECT_GE(v(0), v(1));
}

// ------------------------------------------------------------------ top-k, on every backend

/// top_k equals a stable sort of score() by value, descending.
void run_top_k_contract(const std::unique_ptr<gpbo::Backend>& backend) {
  const Problem p = make_problem(200, 3, 100);
  const auto f = backend->factor(KernelType::kMatern52, p.h, p.X, p.y);
  // One chunk of the CPU default (4,096 rows), so score() below computes the very same numbers.
  MatrixXd Xc = random_unit(4000, 3, 101);
  Xc.row(3000) = Xc.row(10);  // ties keep row order
  gpbo::AcquisitionParams acq;
  acq.best_f = p.y.maxCoeff() - p.h.mean;
  VectorXd all;
  backend->score(*f, acq, Xc, &all, nullptr);
  std::vector<Eigen::Index> order(Xc.rows());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](Eigen::Index a, Eigen::Index b) { return all(a) > all(b); });
  VectorXd values;
  const std::vector<Eigen::Index> top = backend->top_k(*f, acq, Xc, 50, &values);
  ASSERT_EQ(top.size(), 50u);
  ASSERT_EQ(values.size(), 50);
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(top[i], order[i]) << "rank " << i;
    EXPECT_EQ(values(i), all(order[i])) << "rank " << i;
  }
  EXPECT_EQ(backend->top_k(*f, acq, Xc, 20000, nullptr).size(), 4000u);
  EXPECT_TRUE(backend->top_k(*f, acq, Xc, 0, nullptr).empty());
}

TEST(BackendTopK, StableSortOfScoresCpu) { run_top_k_contract(gpbo::make_cpu_backend()); }
TEST(BackendTopK, StableSortOfScoresCuda) {
  SKIP_WITHOUT_CUDA();
  run_top_k_contract(cuda_backend());
}

}  // namespace
