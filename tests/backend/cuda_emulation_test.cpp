// The device emulation of tests/backend/cuda_emulation checked on its own: it must compute what
// cuBLAS computes (against plain loops), refuse what a GPU would fault on, and see every
// allocation and handle of a CUDA backend released at the end of its life.
#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <atomic>
#include <chrono>
#include <climits>
#include <cmath>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "backend/backend.hpp"
#include "backend/cuda_emulation/cusolverDn.h"
#include "backend/cuda_emulation/device_emulation.hpp"
#include "cuda/cholesky.cuh"
#include "cuda/cuda_backend.cuh"
#include "cuda/cuda_resources.cuh"
#include "gpbo/error.hpp"
#include "gpbo/gp.hpp"
#include "gpbo/study.hpp"
#include "gpbo/test_functions.hpp"

namespace {

namespace cu = gpbo::cuda;
namespace emu = gpbo::cuda::emulation;
using Eigen::MatrixXd;
using Eigen::VectorXd;

/// A stream and a cuBLAS handle on the emulated device, and device copies of host matrices.
class Emulated : public ::testing::Test {
 protected:
  void SetUp() override {
    refused_before_ = emu::refused_calls();
    ASSERT_EQ(cu::cudaSetDevice(0), cu::cudaSuccess);
    ASSERT_EQ(cu::cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), cu::cudaSuccess);
    ASSERT_EQ(cu::cublasCreate(&blas_), cu::CUBLAS_STATUS_SUCCESS);
    ASSERT_EQ(cu::cublasSetStream(blas_, stream_), cu::CUBLAS_STATUS_SUCCESS);
  }
  void TearDown() override {
    for (double* p : owned_) EXPECT_EQ(cu::cudaFreeAsync(p, stream_), cu::cudaSuccess);
    EXPECT_EQ(cu::cublasDestroy(blas_), cu::CUBLAS_STATUS_SUCCESS);
    EXPECT_EQ(cu::cudaStreamDestroy(stream_), cu::cudaSuccess);
  }

  double* device(const MatrixXd& host) {
    void* p = nullptr;
    EXPECT_EQ(cu::cudaMallocAsync(&p, host.size() * sizeof(double), stream_), cu::cudaSuccess);
    EXPECT_EQ(cu::cudaMemcpyAsync(p, host.data(), host.size() * sizeof(double),
                                  cu::cudaMemcpyHostToDevice, stream_),
              cu::cudaSuccess);
    owned_.push_back(static_cast<double*>(p));
    return owned_.back();
  }
  MatrixXd host(const double* p, int rows, int cols) {
    MatrixXd out(rows, cols);
    EXPECT_EQ(cu::cudaMemcpyAsync(out.data(), p, out.size() * sizeof(double),
                                  cu::cudaMemcpyDeviceToHost, stream_),
              cu::cudaSuccess);
    return out;
  }
  std::size_t refused() const { return emu::refused_calls() - refused_before_; }

  cu::cudaStream_t stream_ = nullptr;
  cu::cublasHandle_t blas_ = nullptr;
  std::vector<double*> owned_;
  std::size_t refused_before_ = 0;
};

MatrixXd random_matrix(int rows, int cols, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> g;
  MatrixXd m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = g(rng);
  return m;
}

TEST_F(Emulated, NewMemoryReadsAsNaNAndCopiesMustNameTheirDirection) {
  void* p = nullptr;
  ASSERT_EQ(cu::cudaMallocAsync(&p, 4 * sizeof(double), stream_), cu::cudaSuccess);
  owned_.push_back(static_cast<double*>(p));
  const MatrixXd fresh = host(owned_.back(), 4, 1);
  EXPECT_TRUE(fresh.array().isNaN().all());
  double h[4] = {1, 2, 3, 4};
  // Host memory named as the device side, and the reverse, are refused.
  EXPECT_NE(cu::cudaMemcpyAsync(h, p, sizeof h, cu::cudaMemcpyHostToDevice, stream_),
            cu::cudaSuccess);
  EXPECT_NE(cu::cudaMemcpyAsync(p, h, sizeof h, cu::cudaMemcpyDeviceToHost, stream_),
            cu::cudaSuccess);
  // One byte past the allocation is refused too.
  EXPECT_NE(cu::cudaMemcpyAsync(p, h, sizeof h + 1, cu::cudaMemcpyHostToDevice, stream_),
            cu::cudaSuccess);
  EXPECT_EQ(refused(), 3u);
  EXPECT_NE(cu::cudaGetLastError(), cu::cudaSuccess);
  EXPECT_EQ(cu::cudaGetLastError(), cu::cudaSuccess);  // read once, then cleared
}

TEST_F(Emulated, BlasRefusesBadLeadingDimensionsAndOperandsOutsideTheirAllocation) {
  const MatrixXd A = random_matrix(5, 3, 1), B = random_matrix(3, 4, 2);
  double* dA = device(A);
  double* dB = device(B);
  double* dC = device(MatrixXd::Zero(5, 4));
  const double one = 1.0, zero = 0.0;
  EXPECT_EQ(cu::cublasDgemm(blas_, cu::CUBLAS_OP_N, cu::CUBLAS_OP_N, 5, 4, 3, &one, dA, 4, dB, 3,
                            &zero, dC, 5),
            cu::CUBLAS_STATUS_INVALID_VALUE);  // lda < rows
  EXPECT_EQ(cu::cublasDgemm(blas_, cu::CUBLAS_OP_N, cu::CUBLAS_OP_N, 6, 4, 3, &one, dA, 6, dB, 3,
                            &zero, dC, 6),
            cu::CUBLAS_STATUS_EXECUTION_FAILED);  // A and C read past their ends
  EXPECT_EQ(cu::cublasDgemm(blas_, cu::CUBLAS_OP_N, cu::CUBLAS_OP_N, 5, 4, 3, &one, dA, 5, dB, 3,
                            dC, dC, 5),
            cu::CUBLAS_STATUS_INVALID_VALUE);  // beta in device memory
  EXPECT_EQ(refused(), 3u);
  EXPECT_EQ(cu::cublasDgemm(blas_, cu::CUBLAS_OP_N, cu::CUBLAS_OP_N, 5, 4, 3, &one, dA, 5, dB, 3,
                            &zero, dC, 5),
            cu::CUBLAS_STATUS_SUCCESS);
  EXPECT_LE((host(dC, 5, 4) - A * B).cwiseAbs().maxCoeff(), 1e-12);
}

TEST_F(Emulated, BlasMatchesPlainLoops) {
  const int n = 6, k = 4;
  const MatrixXd A = random_matrix(k, n, 3);  // stored k x n, used transposed
  MatrixXd L = random_matrix(n, n, 4);
  L.diagonal() = L.diagonal().cwiseAbs().array() + 2.0;
  MatrixXd Lstored = L;
  Lstored.triangularView<Eigen::StrictlyUpper>().setConstant(std::nan(""));  // never read
  const MatrixXd Lt = L.triangularView<Eigen::Lower>();
  const MatrixXd B = random_matrix(n, 3, 5);
  double* dA = device(A);
  double* dL = device(Lstored);
  const double one = 1.0, two = 2.0, minus_one = -1.0, zero = 0.0;

  // gemm: C = A^T B (n x 3), by loops.
  double* dC = device(MatrixXd::Constant(n, 3, std::nan("")));  // beta = 0: C not read
  double* dB = device(B);
  const MatrixXd B2 = random_matrix(k, 3, 6);
  ASSERT_EQ(cu::cublasDgemm(blas_, cu::CUBLAS_OP_T, cu::CUBLAS_OP_N, n, 3, k, &one, dA, k,
                            device(B2), k, &zero, dC, n),
            cu::CUBLAS_STATUS_SUCCESS);
  MatrixXd expect(n, 3);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < 3; ++j) {
      double s = 0.0;
      for (int l = 0; l < k; ++l) s += A(l, i) * B2(l, j);
      expect(i, j) = s;
    }
  }
  EXPECT_LE((host(dC, n, 3) - expect).cwiseAbs().maxCoeff(), 1e-12);

  // trsm, left, lower, transposed: L^T X = 2 B, checked by multiplying back.
  ASSERT_EQ(cu::cublasDtrsm(blas_, cu::CUBLAS_SIDE_LEFT, cu::CUBLAS_FILL_MODE_LOWER,
                            cu::CUBLAS_OP_T, cu::CUBLAS_DIAG_NON_UNIT, n, 3, &two, dL, n, dB, n),
            cu::CUBLAS_STATUS_SUCCESS);
  EXPECT_LE((Lt.transpose() * host(dB, n, 3) - 2.0 * B).cwiseAbs().maxCoeff(), 1e-10);

  // syrk, lower, transposed: C = C - A^T A on the lower triangle only.
  MatrixXd S = random_matrix(n, n, 7);
  double* dS = device(S);
  ASSERT_EQ(cu::cublasDsyrk(blas_, cu::CUBLAS_FILL_MODE_LOWER, cu::CUBLAS_OP_T, n, k, &minus_one,
                            dA, k, &one, dS, n),
            cu::CUBLAS_STATUS_SUCCESS);
  const MatrixXd S2 = host(dS, n, n);
  for (int j = 0; j < n; ++j) {
    for (int i = 0; i < n; ++i) {
      double s = 0.0;
      for (int l = 0; l < k; ++l) s += A(l, i) * A(l, j);
      EXPECT_NEAR(S2(i, j), i >= j ? S(i, j) - s : S(i, j), 1e-12) << i << "," << j;
    }
  }

  // symm, left, lower: the NaN upper triangle of L is not read.
  double* dY = device(MatrixXd::Zero(n, 3));
  ASSERT_EQ(cu::cublasDsymm(blas_, cu::CUBLAS_SIDE_LEFT, cu::CUBLAS_FILL_MODE_LOWER, n, 3, &one, dL,
                            n, device(B), n, &zero, dY, n),
            cu::CUBLAS_STATUS_SUCCESS);
  const MatrixXd sym = Lt + Lt.transpose() - MatrixXd(Lt.diagonal().asDiagonal());
  EXPECT_LE((host(dY, n, 3) - sym * B).cwiseAbs().maxCoeff(), 1e-12);

  // geam, transposed A into an in-place B: C = A^T + C.
  double* dG = device(MatrixXd::Ones(n, k));
  ASSERT_EQ(cu::cublasDgeam(blas_, cu::CUBLAS_OP_T, cu::CUBLAS_OP_N, n, k, &one, dA, k, &one, dG, n,
                            dG, n),
            cu::CUBLAS_STATUS_SUCCESS);
  EXPECT_LE((host(dG, n, k) - (A.transpose().array() + 1.0).matrix()).cwiseAbs().maxCoeff(), 1e-15);
  EXPECT_EQ(refused(), 0u);
}

/// Every CUDA backend call, on the emulation: nothing refused, and at the end no allocation,
/// stream or handle left behind.
TEST(DeviceEmulation, BackendMakesNoRefusedCallAndReleasesEverything) {
  const std::size_t allocations = emu::live_allocations(), handles = emu::live_handles();
  const std::size_t refused = emu::refused_calls();
  {
    gpbo::detail::CudaBackendOptions f32;
    f32.scoring = gpbo::ScorePrecision::kFloat;
    for (const auto& opt : {gpbo::detail::CudaBackendOptions{}, f32}) {
      const auto backend = gpbo::cuda::create_cuda_backend(0, opt);
      const MatrixXd X = (random_matrix(40, 3, 8).array() * 0.3).matrix();
      const VectorXd y = random_matrix(40, 1, 9);
      gpbo::GpHyperparameters h;
      h.lengthscales = VectorXd::Constant(3, 0.5);
      h.noise = 1e-2;
      VectorXd grad;
      EXPECT_TRUE(std::isfinite(
          backend->log_marginal_likelihood(gpbo::KernelType::kMatern52, h, X, y, &grad)));
      auto f = backend->factor(gpbo::KernelType::kRbf, h, X, y);
      const MatrixXd Xc = random_matrix(300, 3, 10);
      VectorXd mean, var, values;
      MatrixXd dmean, dvar, g;
      f->predict(Xc, &mean, &var, &dmean, &dvar);
      gpbo::AcquisitionParams acq;
      acq.best_f = y.maxCoeff();
      backend->score(*f, acq, Xc, &values, nullptr);
      backend->score(*f, acq, Xc, &values, &g);
      EXPECT_EQ(backend->top_k(*f, acq, Xc, 5, &values).size(), 5u);
      auto grown = f->clone();
      grown->append(Xc.topRows(4), VectorXd::Zero(4));
      EXPECT_EQ(grown->size(), 44);
      EXPECT_EQ(f->covariance(Xc.topRows(3), Xc.topRows(3)).rows(), 3);
      double jitter = -1.0;
      backend->cholesky(MatrixXd::Identity(4, 4), &jitter);
      EXPECT_EQ(jitter, 0.0);
      // The prior (no observations) and an empty candidate set.
      auto prior = backend->factor(gpbo::KernelType::kRbf, h, MatrixXd(0, 3), VectorXd(0));
      prior->predict(Xc, &mean, &var);
      EXPECT_DOUBLE_EQ(var(0), h.outputscale);
      backend->score(*f, acq, MatrixXd(0, 3), &values, nullptr);
      EXPECT_EQ(values.size(), 0);
    }
  }
  EXPECT_EQ(emu::refused_calls(), refused);
  EXPECT_EQ(emu::live_allocations(), allocations);
  EXPECT_EQ(emu::live_handles(), handles);
}

/// A device that faults mid-call must surface as BackendUnavailable, however deep the call:
/// never as a NumericalError, which the fit would absorb as an infeasible point (and so report a
/// wrong model, or a misleading "no factorization succeeded").
TEST(DeviceEmulation, DeviceFaultsSurfaceAsBackendUnavailable) {
  const gpbo::TestFunction f = gpbo::TestFunction::make("hartmann3");
  const MatrixXd X = (random_matrix(30, 3, 12).array().abs() * 0.3).matrix();
  VectorXd y(X.rows());
  for (int i = 0; i < X.rows(); ++i) y(i) = f(X.row(i).transpose());
  // The likelihood's Cholesky and solves, its inverse, a copy, and the scoring's solve.
  for (const char* call : {"cusolverDnDpotrf", "cusolverDnDpotri", "cublasDtrsv", "cudaMemcpyAsync",
                           "cudaStreamSynchronize"}) {
    SCOPED_TRACE(call);
    gpbo::GaussianProcess gp({}, gpbo::Device::cuda(0));
    emu::inject_fault(call);
    EXPECT_THROW(gp.fit(X, y, 1), gpbo::BackendUnavailable);
    emu::clear_faults();
    EXPECT_NO_THROW(gp.fit(X, y, 1));
  }
  // A study's ask that meets a fault fails whole: no trial is recorded, and once the device
  // is back the study goes on.
  gpbo::StudyOptions o;
  o.device = gpbo::Device::cuda(0);
  o.n_initial = 5;
  gpbo::Study study(f.space(), o);
  for (int i = 0; i < 8; ++i) {
    const gpbo::Trial& t = study.ask();
    study.tell(t.id, f(f.to_vector(t.params)));
  }
  const std::size_t trials = study.trials().size();
  emu::inject_fault("cublasDtrsm");  // the acquisition optimizer's scoring
  EXPECT_THROW(study.ask(), gpbo::BackendUnavailable);
  emu::clear_faults();
  EXPECT_EQ(study.trials().size(), trials);
  EXPECT_EQ(study.ask().source, "model");
}

// ------------------------------------------------------------------ the 64-bit solver API

/// Sets the legacy solver limit of cuda/cholesky.cuh for one test.
class LegacyLimit {
 public:
  explicit LegacyLimit(std::int64_t elements) { cu::set_legacy_solver_limit(elements); }
  ~LegacyLimit() { cu::set_legacy_solver_limit(-1); }
  LegacyLimit(const LegacyLimit&) = delete;
  LegacyLimit& operator=(const LegacyLimit&) = delete;
};

/// A small GP problem (n x 4) and its hyperparameters.
struct SmallProblem {
  MatrixXd X;
  VectorXd y;
  gpbo::GpHyperparameters h;
};
SmallProblem small_problem(int n, unsigned seed) {
  SmallProblem p{
      (random_matrix(n, 4, seed).array() * 0.4).matrix(), random_matrix(n, 1, seed + 1), {}};
  p.h.lengthscales = VectorXd::LinSpaced(4, 0.4, 0.9);
  p.h.noise = 1e-3;
  p.h.mean = 0.2;
  return p;
}

bool any_call_named(const std::vector<std::string>& calls, const std::string& prefix) {
  for (const std::string& c : calls) {
    if (c.rfind(prefix + " ", 0) == 0) return true;
  }
  return false;
}

/// A backend's likelihood, gradient and posterior at the first 20 points of a problem.
struct Evaluation {
  double lml = 0.0;
  VectorXd grad, mean, var;
};
Evaluation evaluate(const gpbo::Backend& backend, const SmallProblem& p) {
  Evaluation e;
  e.lml = backend.log_marginal_likelihood(gpbo::KernelType::kMatern52, p.h, p.X, p.y, &e.grad);
  backend.factor(gpbo::KernelType::kMatern52, p.h, p.X, p.y)
      ->predict(p.X.topRows(20), &e.mean, &e.var);
  return e;
}

/// The 64-bit path (cusolverDnXpotrf, cusolverDnXtrtri, then syrk) forced at a small n, where
/// the emulation computes it: the likelihood, its gradient and the posterior agree with the CPU
/// as the 32-bit path does.
TEST(DeviceEmulation, SixtyFourBitSolverPathMatchesTheCpu) {
  const std::size_t refused = emu::refused_calls();
  const SmallProblem p = small_problem(150, 21);
  const Evaluation cpu = evaluate(*gpbo::make_cpu_backend(), p);
  LegacyLimit every_size_64bit(0);
  emu::record_calls(true);
  const Evaluation gpu = evaluate(*gpbo::cuda::create_cuda_backend(0, {}), p);
  emu::record_calls(false);
  const std::vector<std::string> calls = emu::recorded_calls();
  EXPECT_TRUE(any_call_named(calls, "cusolverDnXpotrf"));
  EXPECT_TRUE(any_call_named(calls, "cusolverDnXtrtri"));
  EXPECT_TRUE(any_call_named(calls, "cublasDsyrk"));
  EXPECT_FALSE(any_call_named(calls, "cusolverDnDpotrf"));
  EXPECT_FALSE(any_call_named(calls, "cusolverDnDpotri"));
  EXPECT_NEAR(gpu.lml, cpu.lml, 1e-9 * std::max(1.0, std::abs(cpu.lml)));
  EXPECT_LE((gpu.grad - cpu.grad).cwiseAbs().maxCoeff(), 1e-7 * cpu.grad.cwiseAbs().maxCoeff());
  EXPECT_LE((gpu.mean - cpu.mean).cwiseAbs().maxCoeff(), 1e-9);
  EXPECT_LE((gpu.var - cpu.var).cwiseAbs().maxCoeff(), 1e-9);
  EXPECT_EQ(emu::refused_calls(), refused);
}

/// n = 50,000 (n * lda = 2.5e9 > 2^31 - 1): the factor and the inverse go through the 64-bit
/// API with 64-bit sizes, every argument checked, on bookkeeping-only allocations (the 20 GB
/// operands are address space; nothing is computed). The 32-bit API at that size is refused.
/// The whole likelihood cannot run here: its kernel fill and reductions are host loops over
/// n^2 entries of that memory; the value at this size is checked on a GPU (bench/gp_bench.cpp,
/// BM_LmlGradCheck).
TEST(DeviceEmulation, SixtyFourBitSolverAboveTheLegacyLimit) {
  constexpr std::int64_t n = 50000;
  ASSERT_GT(n * n, std::int64_t(INT_MAX));
  const std::size_t refused = emu::refused_calls();
  const std::size_t allocations = emu::live_allocations();
  emu::set_unbacked_threshold(std::size_t(1) << 30);
  emu::set_device_memory(std::size_t{80} << 30);  // two 20 GB operands: an 80 GB card
  {
    cu::CudaResources res(0);
    cu::CudaResources::Lock lock(res);
    cu::DeviceBuffer<double> K(std::size_t(n) * n, res.stream());
    ASSERT_EQ(cu::cudaMemsetAsync(K.data(), 0, K.size() * sizeof(double), res.stream()),
              cu::cudaSuccess);
    emu::record_calls(true);
    EXPECT_TRUE(cu::potrf_lower(res, n, K.data(), n, "n = 50,000"));
    cu::DeviceBuffer<double> spare;
    const double* inverse = cu::cholesky_inverse(res, n, K.data(), &spare, "n = 50,000");
    emu::record_calls(false);
    EXPECT_EQ(inverse, spare.data());
    EXPECT_EQ(spare.size(), std::size_t(n) * n);
    EXPECT_EQ(emu::recorded_calls(), (std::vector<std::string>{"cusolverDnXpotrf n=50000 lda=50000",
                                                               "cusolverDnXtrtri n=50000 lda=50000",
                                                               "cublasDsyrk n=50000 k=50000"}));
    EXPECT_EQ(emu::refused_calls(), refused);
    // What the backend did before: the 32-bit potrf at this size, which the emulation refuses.
    LegacyLimit legacy_only(INT64_MAX);
    EXPECT_THROW(cu::potrf_lower(res, n, K.data(), n, "n = 50,000"), gpbo::BackendUnavailable);
    EXPECT_EQ(emu::refused_calls(), refused + 1);
  }
  emu::set_unbacked_threshold(SIZE_MAX);
  emu::set_device_memory(std::size_t{16} << 30);
  EXPECT_EQ(emu::live_allocations(), allocations);
}

/// Restores the emulated card's 16 GiB however a test ends.
struct DeviceMemory {
  explicit DeviceMemory(std::size_t bytes) { emu::set_device_memory(bytes); }
  ~DeviceMemory() { emu::set_device_memory(std::size_t{16} << 30); }
};

gpbo::GpHyperparameters factor_hyperparameters(int d) {
  gpbo::GpHyperparameters h;
  h.lengthscales = VectorXd::Constant(d, 0.4);
  h.noise = 1e-3;
  return h;
}

/// Posterior means and variances of two factors at the same candidates, the largest difference.
double posterior_gap(const gpbo::PosteriorFactor& a, const gpbo::PosteriorFactor& b,
                     const MatrixXd& Xc) {
  VectorXd ma, va, mb, vb;
  a.predict(Xc, &ma, &va);
  b.predict(Xc, &mb, &vb);
  return std::max((ma - mb).cwiseAbs().maxCoeff(), (va - vb).cwiseAbs().maxCoeff());
}

/// A factor is made with n / 16 + 16 spare rows where the device has room: trials appended
/// between asks are written into them (no second n x n buffer), truncation keeps the buffer,
/// and appends past the spare rows move the factor into a larger one. Each state equals a fresh
/// factorization of the same rows.
TEST(DeviceEmulation, PosteriorFactorAppendsIntoItsSpareRows) {
  const std::size_t refused = emu::refused_calls();
  const auto backend = gpbo::cuda::create_cuda_backend(0, {});
  const gpbo::GpHyperparameters h = factor_hyperparameters(3);
  const MatrixXd X = (random_matrix(300, 3, 21).array().abs() * 0.3).matrix().cwiseMin(1.0);
  const VectorXd y = random_matrix(300, 1, 22);
  const MatrixXd Xc = random_matrix(50, 3, 23).cwiseAbs().cwiseMin(1.0);
  // The resources and the solver's workspace first, so that only the factor's bytes count.
  backend->factor(gpbo::KernelType::kMatern52, h, X.topRows(200), y.head(200)).reset();
  const std::size_t before = emu::live_bytes();
  auto f = backend->factor(gpbo::KernelType::kMatern52, h, X.topRows(200), y.head(200));
  const double spare = 200 + 200 / 16 + 16;  // 228 rows
  const std::size_t made = emu::live_bytes() - before;
  EXPECT_GE(made, std::size_t(8 * spare * spare));
  EXPECT_LT(made, std::size_t(8 * spare * spare) + 100000);
  // 20 rows into the spare ones: only O(n k) more bytes live meanwhile and after.
  emu::reset_peak_bytes();
  f->extend(X.middleRows(200, 20), y.head(220));
  EXPECT_LT(emu::peak_bytes() - before, made + 100000);
  auto fresh = backend->factor(gpbo::KernelType::kMatern52, h, X.topRows(220), y.head(220));
  EXPECT_LE(posterior_gap(*f, *fresh, Xc), 1e-10);
  fresh.reset();
  // Truncated to 210, then 18 more rows (228: exactly full), then 72 past the spare rows.
  f->truncate(210);
  fresh = backend->factor(gpbo::KernelType::kMatern52, h, X.topRows(210), y.head(210));
  EXPECT_LE(posterior_gap(*f, *fresh, Xc), 1e-10);
  fresh.reset();
  emu::reset_peak_bytes();
  f->extend(X.middleRows(210, 18), y.head(228));
  EXPECT_LT(emu::peak_bytes() - before, made + 100000);
  f->extend(X.middleRows(228, 72), y);
  EXPECT_EQ(f->size(), 300);
  fresh = backend->factor(gpbo::KernelType::kMatern52, h, X, y);
  EXPECT_LE(posterior_gap(*f, *fresh, Xc), 1e-10);
  EXPECT_EQ(emu::refused_calls(), refused);
}

/// An append past a factor's spare rows that cannot get a larger buffer fails as out of memory
/// (BackendUnavailable, the factor unchanged); the GP then drops the kept factor and factors
/// the whole data afresh, which fits.
TEST(DeviceEmulation, AKeptFactorWithoutRoomToGrowIsFactoredAfresh) {
  const gpbo::GpHyperparameters h = factor_hyperparameters(2);
  const MatrixXd X = (random_matrix(440, 2, 31).array().abs() * 0.3).matrix().cwiseMin(1.0);
  const VectorXd y = random_matrix(440, 1, 32);
  // On a 2.1 MB card a factor of 380 rows gets its 39 spare rows (8 x 419^2 = 1.40 MB and a
  // sixteenth of the card); 60 more rows need a buffer of at least 8 x 440^2 = 1.55 MB beside
  // it, which is not there, while a fresh factor of 440 rows (no spare rows) fits alone.
  const DeviceMemory card(std::size_t(2.1e6));
  gpbo::GpOptions options;
  options.memory_limit_gb = 2.0;  // the GP's own check is not what is tested here
  gpbo::GaussianProcess gp(options, gpbo::Device::cuda(0));
  gp.condition(X.topRows(380), y.head(380), h);
  std::unique_ptr<gpbo::PosteriorFactor> kept = gp.release_factor();
  const VectorXd y_std = (y.array() - gp.y_mean()) / gp.y_scale();
  EXPECT_THROW(kept->extend(X.bottomRows(60), y_std), gpbo::BackendUnavailable);
  EXPECT_EQ(kept->size(), 380);
  gp.condition(X, y, h, std::move(kept));
  EXPECT_FALSE(gp.reused_factor());
  EXPECT_EQ(gp.factor().size(), 440);
  gpbo::GaussianProcess cpu(options, gpbo::Device::cpu());
  cpu.condition(X, y, h);
  const MatrixXd Xc = random_matrix(30, 2, 33).cwiseAbs().cwiseMin(1.0);
  EXPECT_LE((gp.predict(Xc).mean - cpu.predict(Xc).mean).cwiseAbs().maxCoeff(), 1e-8);
  // With room, the same kept factor is extended in place of a new factorization.
  const DeviceMemory roomy(std::size_t(16) << 30);
  gpbo::GaussianProcess warm(options, gpbo::Device::cuda(0));
  warm.condition(X.topRows(380), y.head(380), h);
  warm.condition(X, y, h, warm.release_factor());
  EXPECT_TRUE(warm.reused_factor());
  EXPECT_LE((warm.predict(Xc).mean - cpu.predict(Xc).mean).cwiseAbs().maxCoeff(), 1e-8);
}

/// What the GP counts on a GPU: the factor only (8 n^2 bytes) when the hyperparameters come
/// from a subset (and the steps on all points do not fit) or are kept, so 100,000 observations fit
/// an H200 (139 GiB: 80 GB against a limit of 104 GiB) and are refused on an H100 (79.6 GiB) before
/// anything is allocated.
TEST(DeviceEmulation, OneHundredThousandObservationsFitAnH200AndNotAnH100) {
  const MatrixXd X = MatrixXd::Constant(100000, 20, 0.5);
  const VectorXd y = VectorXd::LinSpaced(100000, 0.0, 1.0);
  {
    const DeviceMemory h200(std::size_t(139.8 * 1073741824.0));
    gpbo::GaussianProcess gp(gpbo::GpOptions{}, gpbo::Device::cuda(0));
    EXPECT_EQ(gp.memory_need(100000, false), 8e10);
    // The search runs on 1,000 points; the steps on all of them would need 160 GB: left out.
    EXPECT_EQ(gp.memory_need(100000, true), 8e10);
    EXPECT_LT(gp.memory_need(100000, true), double(gp.memory_limit_bytes()));
    // With float32 scoring its copy of the factor too: over the limit.
    gpbo::GaussianProcess f32(gpbo::GpOptions{}, gpbo::Device::cuda(0),
                              gpbo::ScorePrecision::kFloat);
    EXPECT_EQ(f32.memory_need(100000, false), 1.2e11);
    EXPECT_GT(f32.memory_need(100000, false), double(f32.memory_limit_bytes()));
  }
  const DeviceMemory h100(std::size_t(79.6 * 1073741824.0));
  gpbo::GaussianProcess gp(gpbo::GpOptions{}, gpbo::Device::cuda(0));
  EXPECT_LT(gp.memory_limit_bytes(), std::size_t(8e10));  // (creates the device's resources)
  // The steps on all points after a subset fit run where their likelihood (16 n^2 above
  // 46,340) fits beside a factor of all n: at 50,000 (40 + 20 GB of 64), not at 60,000.
  EXPECT_EQ(gp.memory_need(50000, true), 4e10);
  EXPECT_EQ(gp.memory_need(60000, true), 2.88e10);
  const std::size_t allocations = emu::live_allocations();
  try {
    gp.condition(X, y, factor_hyperparameters(20));
    FAIL() << "100,000 observations were accepted on an 80 GB card";
  } catch (const gpbo::InvalidArgument& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("100000 observations"), std::string::npos) << what;
    EXPECT_NE(what.find("GPU"), std::string::npos) << what;
    EXPECT_NE(what.find("gp.memory_limit_gb"), std::string::npos) << what;
  }
  EXPECT_EQ(emu::live_allocations(), allocations);
}

/// An argument cuSOLVER rejects (devInfo = -i) is a bug in gpbo: the base Error, naming the
/// call and the argument, on both APIs; never NumericalError or BackendUnavailable.
TEST(DeviceEmulation, IllegalSolverArgumentIsAnInternalError) {
  const SmallProblem p = small_problem(40, 31);
  struct Case {
    std::int64_t legacy_limit;
    const char* call;
  };
  for (const Case& c : {Case{-1, "cusolverDnDpotrf"}, Case{-1, "cusolverDnDpotri"},
                        Case{0, "cusolverDnXpotrf"}, Case{0, "cusolverDnXtrtri"}}) {
    SCOPED_TRACE(c.call);
    LegacyLimit limit(c.legacy_limit);
    const auto gpu = gpbo::cuda::create_cuda_backend(0, {});
    VectorXd grad;
    emu::inject_dev_info(c.call, -4);
    try {
      gpu->log_marginal_likelihood(gpbo::KernelType::kRbf, p.h, p.X, p.y, &grad);
      ADD_FAILURE() << "no throw";
    } catch (const gpbo::NumericalError& e) {
      ADD_FAILURE() << "NumericalError: " << e.what();
    } catch (const gpbo::BackendUnavailable& e) {
      ADD_FAILURE() << "BackendUnavailable: " << e.what();
    } catch (const gpbo::Error& e) {
      EXPECT_NE(std::string(e.what()).find(std::string(c.call) + " rejected argument 4"),
                std::string::npos)
          << e.what();
    }
    EXPECT_TRUE(
        std::isfinite(gpu->log_marginal_likelihood(gpbo::KernelType::kRbf, p.h, p.X, p.y, &grad)));
  }
}

// ------------------------------------------------------------------ resources and lifetimes

/// A factor may die on a thread that never chose a device, and while another thread is inside
/// a call on the same resources: it frees under their lock, with the device current.
TEST(DeviceEmulation, PosteriorFactorFreesUnderTheLockWithItsDeviceCurrent) {
  const std::size_t refused = emu::refused_calls();
  const std::size_t allocations = emu::live_allocations();
  const SmallProblem p = small_problem(60, 41);
  {
    const auto gpu = gpbo::cuda::create_cuda_backend(0, {});
    auto f = gpu->factor(gpbo::KernelType::kRbf, p.h, p.X, p.y);
    std::thread([&] { f.reset(); }).join();
    EXPECT_EQ(emu::refused_calls(), refused) << "freed without cudaSetDevice";

    auto g = gpu->factor(gpbo::KernelType::kRbf, p.h, p.X, p.y);
    emu::pause_at("cusolverDnDpotrf");
    std::thread busy([&] {
      VectorXd grad;
      gpu->log_marginal_likelihood(gpbo::KernelType::kRbf, p.h, p.X, p.y, &grad);
    });
    emu::wait_until_paused();  // `busy` holds the lock, inside potrf
    std::atomic<bool> freed{false};
    std::thread dropper([&] {
      g.reset();
      freed = true;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    EXPECT_FALSE(freed) << "freed while another call held the resources";
    emu::resume();
    busy.join();
    dropper.join();
    EXPECT_TRUE(freed);
  }
  EXPECT_EQ(emu::refused_calls(), refused);
  EXPECT_EQ(emu::live_allocations(), allocations);
}

/// CudaResources::init failing at any step releases what it had created (pool, stream,
/// handles, buffers) at once, and the next call starts again from nothing.
TEST(DeviceEmulation, ResourcesFailingToInitializeReleaseWhatTheyCreated) {
  const std::size_t allocations = emu::live_allocations(), handles = emu::live_handles();
  for (const char* call :
       {"cudaMemPoolCreate", "cudaMemPoolSetAttribute", "cudaStreamCreateWithFlags", "cublasCreate",
        "cublasSetStream", "cusolverDnCreate", "cusolverDnSetStream", "cusolverDnCreateParams",
        "cudaMallocAsync"}) {
    SCOPED_TRACE(call);
    {
      const auto gpu = gpbo::cuda::create_cuda_backend(0, {});
      emu::inject_fault(call);
      EXPECT_THROW(gpu->cholesky(MatrixXd::Identity(3, 3)), gpbo::BackendUnavailable);
      emu::clear_faults();
      EXPECT_EQ(emu::live_handles(), handles) << "left by the failed init";
      EXPECT_EQ(emu::live_allocations(), allocations) << "left by the failed init";
      EXPECT_NO_THROW(gpu->cholesky(MatrixXd::Identity(3, 3)));
    }
    EXPECT_EQ(emu::live_handles(), handles);
    EXPECT_EQ(emu::live_allocations(), allocations);
  }
}

}  // namespace
