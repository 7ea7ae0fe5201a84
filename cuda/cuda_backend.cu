// CudaBackend and its PosteriorFactor. Matrices are column-major on the device (as Eigen's on
// the host); only the lower triangle of a Cholesky factor is meaningful. Every public call
// holds a CudaResources::Lock, runs on its stream and returns after copying its results back.
// The device code is the functors below, run by the launch shapes of cuda/launch.cuh; g++
// compiles this file too, against tests/backend/cuda_emulation, so CI runs all of it.
#include <thrust/functional.h>
#include <thrust/iterator/zip_iterator.h>
#include <thrust/sequence.h>
#include <thrust/sort.h>
#include <thrust/transform.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <type_traits>
#include <vector>

#include "backend/jitter.hpp"
#include "cuda/cholesky.cuh"
#include "cuda/cuda_backend.cuh"
#include "cuda/cuda_check.cuh"
#include "cuda/cuda_resources.cuh"
#include "cuda/device_buffer.cuh"
#include "cuda/gp_kernels.cuh"
#include "cuda/launch.cuh"
#include "cuda/score_functors.cuh"
#include "gpbo/error.hpp"

/// Device memory for the n x m_chunk candidate blocks of one scoring chunk (the emulation
/// tests build with a small value, so that scoring runs in many chunks).
#ifndef GPBO_CUDA_CHUNK_BYTES
#define GPBO_CUDA_CHUNK_BYTES (std::size_t(512) << 20)
#endif

namespace gpbo::cuda {
namespace {

constexpr double kLog2Pi = 1.8378770664093454836;
constexpr std::size_t kChunkBytes = GPBO_CUDA_CHUNK_BYTES;

using detail::CudaBackendOptions;

// ------------------------------------------------------------------ device functors

/// p[i * stride] (for a matrix diagonal: stride = ld + 1).
struct StridedValue {
  const double* p;
  std::size_t stride;
  GPBO_HD double operator()(std::size_t i) const { return p[i * stride]; }
};
struct StridedLog {
  const double* p;
  std::size_t stride;
  GPBO_HD double operator()(std::size_t i) const { return log(p[i * stride]); }
};

struct Fill {
  double value;
  double* out;
  GPBO_HD void operator()(std::size_t i) const { out[i] = value; }
};

/// A[i, i] += value.
struct AddDiagonal {
  double value;
  double* A;
  std::size_t lda;
  GPBO_HD void operator()(std::size_t i) const { A[i + i * lda] += value; }
};

template <typename T>
struct Convert {
  const double* in;
  T* out;
  GPBO_HD void operator()(std::size_t i) const { out[i] = static_cast<T>(in[i]); }
};

/// out(i, k) (ld ldo) = in(i, k) (ld ldi) as T, the lower triangle; over n x n.
template <typename T>
struct ConvertLower {
  const double* in;
  std::size_t ldi;
  T* out;
  std::size_t ldo;
  GPBO_HD void operator()(int i, int k) const {
    if (i >= k) out[i + k * ldo] = static_cast<T>(in[i + k * ldi]);
  }
};

/// Lower triangle of K(X, X) + noise I (X: n x d, ld n), entry (i, k); over n x n.
struct TrainCov {
  int n, d;
  const double* X;
  const double* inv_l;
  KernelType kernel;
  double s, noise;
  double* K;
  std::size_t ldk;
  GPBO_HD void operator()(int i, int k) const {
    if (i < k) return;
    const bool diag = i == k;
    const double r2 = diag ? 0.0 : scaled_sqdist_rows(X, n, i, X, n, k, inv_l, d);
    K[i + k * ldk] = train_cov_entry(kernel, s, noise, r2, diag);
  }
};

/// Observation i of X (n x d, ld n) against candidate c of C (ld ldc): what the functors over
/// (observation, candidate) pairs share.
struct PairGeometry {
  int n, d;
  const double* X;
  const double* C;
  std::size_t ldc;
  const double* inv_l;
  KernelType kernel;
  double s;
  GPBO_HD double r2(int i, int c) const { return scaled_sqdist_rows(X, n, i, C, ldc, c, inv_l, d); }
};

/// out (n x mc, ld n) = s rho(r2(X_i, C_c)); over n x mc.
template <typename T>
struct CrossCov {
  PairGeometry g;
  T* out;
  GPBO_HD void operator()(int i, int c) const {
    out[i + std::size_t(c) * g.n] = static_cast<T>(g.s * kernel_rho(g.kernel, g.r2(i, c)));
  }
};

/// In place on the lower triangle: K^{-1} -> M = (alpha alpha^T - K^{-1}) o s rho'(R2); per
/// column k (a segment over i = k .. n-1): partial[k] = the outputscale terms, partial[n + k] =
/// the trace term.
struct LmlContract {
  int n, d;
  const double* X;
  const double* inv_l;
  KernelType kernel;
  double s;
  const double* alpha;
  double* M;
  std::size_t ldm;
  double* partial;
  GPBO_HD std::size_t length(int k) const { return std::size_t(n - k); }
  GPBO_HD Sum2 term(int k, std::size_t t) const {
    const int i = k + static_cast<int>(t);
    const bool diag = i == k;
    const double r2 = diag ? 0.0 : scaled_sqdist_rows(X, n, i, X, n, k, inv_l, d);
    double& e = M[i + std::size_t(k) * ldm];
    const LmlPairTerm p = lml_pair_term(kernel, s, r2, alpha[i], alpha[k], e, diag);
    e = p.m;
    return {p.w_kernel, p.w_trace};
  }
  GPBO_HD void finish(int k, Sum2 sum) const {
    partial[k] = sum.a;
    partial[n + k] = sum.b;
  }
};

/// out[j] = d LML / d log l_j from rows = M 1 and MX = M X; a segment per dimension.
struct LengthscaleGrad {
  int n;
  const double* X;
  const double* rows;
  const double* MX;
  const double* inv_l;
  double* out;
  GPBO_HD std::size_t length(int) const { return std::size_t(n); }
  GPBO_HD double term(int j, std::size_t i) const {
    const std::size_t ij = i + std::size_t(j) * n;
    return lengthscale_grad_summand(X[ij], rows[i], MX[ij]);
  }
  GPBO_HD void finish(int j, double sum) const { out[j] = -2.0 * sum * inv_l[j] * inv_l[j]; }
};

/// var[c] = max(s - |V_c|^2, 0) for the columns of V (n x mc); a segment per column.
template <typename T>
struct Variance {
  int n;
  const T* V;
  double s;
  double* var;
  GPBO_HD std::size_t length(int) const { return std::size_t(n); }
  GPBO_HD double term(int c, std::size_t i) const {
    const double v = static_cast<double>(V[i + std::size_t(c) * n]);
    return v * v;
  }
  GPBO_HD void finish(int c, double sum) const { var[c] = fmax(s - sum, 0.0); }
};

template <typename T>
struct FinishMean {
  const T* raw;
  double mean0;
  double* mean;
  GPBO_HD void operator()(std::size_t c) const { mean[c] = static_cast<double>(raw[c]) + mean0; }
};

/// E (n x mc) = s rho'(r2) (dm_c alpha_i - 2 dv_c W_ic); dm/dv arrays, or constants when null;
/// W null reads as 0. E may alias W (each entry is read before it is written, by the same
/// call). Over n x mc.
struct GradCoef {
  PairGeometry g;
  const double* alpha;
  const double* W;
  const double* dm;
  double dm_const;
  const double* dv;
  double dv_const;
  double* E;
  GPBO_HD void operator()(int i, int c) const {
    const std::size_t idx = i + std::size_t(c) * g.n;
    const double w = W ? W[idx] : 0.0;
    E[idx] = grad_coefficient(g.kernel, g.s, g.r2(i, c), alpha[i], w, dm ? dm[c] : dm_const,
                              dv ? dv[c] : dv_const);
  }
};

/// out(c, j) (ld ldo) = x_gradient for the mc candidates of C (ld ldc); over mc * d cells.
struct XGradient {
  int mc, d;
  const double* C;
  std::size_t ldc;
  const double* inv_l;
  const double* colsum;
  const double* XtE;
  double* out;
  std::size_t ldo;
  GPBO_HD void operator()(std::size_t t) const {
    const int c = static_cast<int>(t % mc), j = static_cast<int>(t / mc);
    out[c + j * ldo] = x_gradient(inv_l[j], C[c + j * ldc], colsum[c], XtE[j + std::size_t(c) * d]);
  }
};

// ------------------------------------------------------------------ host helpers

template <typename Op>
double device_reduce(CudaResources& r, std::size_t count, const Op& op) {
  DeviceBuffer<double> out(1, r.stream());
  for_each_segment(r.stream(), 1, sum_into(count, op, out.data()));
  double v = 0.0;
  out.download(&v, 1);
  return v;
}

DeviceBuffer<double> upload(const double* host, std::size_t count, Stream stream) {
  DeviceBuffer<double> b(count, stream);
  b.upload(host, count);
  return b;
}

DeviceBuffer<double> ones(std::size_t count, Stream stream) {
  DeviceBuffer<double> b(count, stream);
  for_each_index(stream, count, Fill{1.0, b.data()});
  return b;
}

struct LadderResult {
  double jitter = 0.0;
  double log_det = 0.0;  ///< sum of log diag(L)
};

/// Factors A (n x n, ld lda, lower) in place with the jitter ladder of backend/jitter.hpp;
/// `fill` writes the unjittered matrix (again before each retry). devInfo is read after every
/// potrf (cuda/cholesky.cuh picks the 32- or 64-bit API by size). A diagonal that is not finite
/// and positive (which cuSOLVER does not flag for NaN) counts as a failed rung. Throws
/// NumericalError.
LadderResult cholesky_ladder(CudaResources& r, std::int64_t n, double* A, std::int64_t lda,
                             const std::function<void()>& fill, const std::string& what) {
  if (n == 0) return {};
  const Stream st = r.stream();
  const std::size_t diagonal_stride = static_cast<std::size_t>(lda) + 1;
  fill();
  const double scale = device_reduce(r, n, StridedValue{A, diagonal_stride}) / n;
  LadderResult out;
  out.jitter = detail::climb_jitter_ladder(scale, what, [&](int rung, double jitter) {
    if (rung > 0) fill();
    if (jitter != 0.0) {
      for_each_index(st, n, AddDiagonal{jitter, A, static_cast<std::size_t>(lda)});
    }
    if (!potrf_lower(r, n, A, lda, what)) return false;
    out.log_det = device_reduce(r, n, StridedLog{A, diagonal_stride});
    return std::isfinite(out.log_det);
  });
  return out;
}

// Triangular solves with the lower factor L (n x n, leading dimension ldl >= n: a posterior
// factor keeps spare rows) of x (length n) or B (n x cols, ld n).
void trsv(CudaResources& r, int n, const double* L, int ldl, cublasOperation_t op, double* x) {
  if (n == 0) return;
  GPBO_CUBLAS_TRY(
      cublasDtrsv(r.cublas(), CUBLAS_FILL_MODE_LOWER, op, CUBLAS_DIAG_NON_UNIT, n, L, ldl, x, 1));
}

void trsm(CudaResources& r, int n, int cols, const double* L, int ldl, cublasOperation_t op,
          double* B) {
  if (n == 0 || cols == 0) return;
  const double one = 1.0;
  GPBO_CUBLAS_TRY(cublasDtrsm(r.cublas(), CUBLAS_SIDE_LEFT, CUBLAS_FILL_MODE_LOWER, op,
                              CUBLAS_DIAG_NON_UNIT, n, cols, &one, L, ldl, B, n));
}
void trsm(CudaResources& r, int n, int cols, const float* L, int ldl, cublasOperation_t op,
          float* B) {
  if (n == 0 || cols == 0) return;
  const float one = 1.0f;
  GPBO_CUBLAS_TRY(cublasStrsm(r.cublas(), CUBLAS_SIDE_LEFT, CUBLAS_FILL_MODE_LOWER, op,
                              CUBLAS_DIAG_NON_UNIT, n, cols, &one, L, ldl, B, n));
}
void gemv_t(CudaResources& r, int n, int cols, const double* A, const double* x, double* y) {
  const double one = 1.0, zero = 0.0;
  GPBO_CUBLAS_TRY(cublasDgemv(r.cublas(), CUBLAS_OP_T, n, cols, &one, A, n, x, 1, &zero, y, 1));
}
void gemv_t(CudaResources& r, int n, int cols, const float* A, const float* x, float* y) {
  const float one = 1.0f, zero = 0.0f;
  GPBO_CUBLAS_TRY(cublasSgemv(r.cublas(), CUBLAS_OP_T, n, cols, &one, A, n, x, 1, &zero, y, 1));
}

Eigen::VectorXd inverse_lengthscales(const GpHyperparameters& h) {
  return h.lengthscales.cwiseInverse();
}

// ------------------------------------------------------------------ posterior factor

/// What one pass over the candidates computes; all pointers are device arrays of the caller
/// (mean and var always, length m; the m x d ones column-major with ld m).
struct PosteriorRequest {
  double* mean = nullptr;
  double* var = nullptr;
  bool want_var = false;
  double* dmean = nullptr;
  double* dvar = nullptr;
  const AcquisitionParams* acq = nullptr;  ///< with `values`: acquisition values (needs var)
  double* values = nullptr;
  double* grad = nullptr;  ///< acquisition x-gradient, m x d
  bool use_float = false;  ///< values-only path in float32
};

class CudaPosteriorFactor final : public PosteriorFactor {
 public:
  CudaPosteriorFactor(std::shared_ptr<CudaResources> res, KernelType kernel, GpHyperparameters h)
      : res_(std::move(res)), kernel_(kernel), h_(std::move(h)) {}
  CudaPosteriorFactor(const CudaPosteriorFactor&) = delete;
  CudaPosteriorFactor& operator=(const CudaPosteriorFactor&) = delete;

  /// A factor may die on any thread, inside or outside a backend call: its buffers go back
  /// under the resources' lock, with their device current on this thread.
  ~CudaPosteriorFactor() override {
    CudaResources::Lock lock(*res_, std::nothrow);
    for (DeviceBuffer<double>* b : {&inv_l_, &X_, &L_, &resid_, &alpha_})
      *b = DeviceBuffer<double>();
    L32_ = DeviceBuffer<float>();
    alpha32_ = DeviceBuffer<float>();
  }

  /// Builds the factor of K(X, X) + noise I (caller holds the lock).
  void init(const Eigen::MatrixXd& X, const Eigen::VectorXd& y) {
    const Stream st = res_->stream();
    n_ = static_cast<int>(X.rows());
    d_ = static_cast<int>(X.cols());
    const Eigen::VectorXd inv_l = inverse_lengthscales(h_);
    inv_l_ = upload(inv_l.data(), d_, st);
    X_ = upload(X.data(), std::size_t(n_) * d_, st);
    ld_ = capacity_for(n_);
    L_ = zeroed(ld_);
    const int n = n_, d = d_, ld = ld_;
    const KernelType kernel = kernel_;
    const double s = h_.outputscale, noise = h_.noise;
    double* L = L_.data();
    const double* dX = X_.data();
    const double* dinv = inv_l_.data();
    const LadderResult lr = cholesky_ladder(
        *res_, n, L, std::max(ld, 1),
        [&] {
          for_each_2d(st, n, n, TrainCov{n, d, dX, dinv, kernel, s, noise, L, std::size_t(ld)});
        },
        "posterior");
    jitter_ = lr.jitter;
    const Eigen::VectorXd resid = (y.array() - h_.mean).matrix();
    resid_ = upload(resid.data(), n_, st);
    update_alpha();
  }

  int size() const override { return n_; }
  double jitter() const override { return jitter_; }

  void predict(const Eigen::MatrixXd& Xc, Eigen::VectorXd* mean, Eigen::VectorXd* var,
               Eigen::MatrixXd* dmean, Eigen::MatrixXd* dvar) const override {
    const int m = static_cast<int>(Xc.rows());
    CudaResources::Lock lock(*res_);
    const Stream st = res_->stream();
    const DeviceBuffer<double> dXc = upload(Xc.data(), std::size_t(m) * d_, st);
    DeviceBuffer<double> dmean_v(m, st), dvar_v(m, st);
    DeviceBuffer<double> ddm(dmean ? std::size_t(m) * d_ : 0, st);
    DeviceBuffer<double> ddv(dvar ? std::size_t(m) * d_ : 0, st);
    PosteriorRequest req;
    req.mean = dmean_v.data();
    req.var = dvar_v.data();
    req.want_var = var != nullptr;
    req.dmean = dmean ? ddm.data() : nullptr;
    req.dvar = dvar ? ddv.data() : nullptr;
    run(dXc.data(), m, req);
    if (mean) {
      mean->resize(m);
      dmean_v.download(mean->data(), m);
    }
    if (var) {
      var->resize(m);
      dvar_v.download(var->data(), m);
    }
    if (dmean) {
      dmean->resize(m, d_);
      ddm.download(dmean->data(), std::size_t(m) * d_);
    }
    if (dvar) {
      dvar->resize(m, d_);
      ddv.download(dvar->data(), std::size_t(m) * d_);
    }
  }

  /// Acquisition values (and x-gradients) of the rows of Xc.
  void score(const AcquisitionParams& acq, const Eigen::MatrixXd& Xc, Eigen::VectorXd* values,
             Eigen::MatrixXd* grad, ScorePrecision precision) const {
    const int m = static_cast<int>(Xc.rows());
    CudaResources::Lock lock(*res_);
    const Stream st = res_->stream();
    const DeviceBuffer<double> dXc = upload(Xc.data(), std::size_t(m) * d_, st);
    DeviceBuffer<double> dmean_v(m, st), dvar_v(m, st), dvalues(m, st);
    DeviceBuffer<double> dgrad(grad ? std::size_t(m) * d_ : 0, st);
    PosteriorRequest req;
    req.mean = dmean_v.data();
    req.var = dvar_v.data();
    req.acq = &acq;
    req.values = dvalues.data();
    req.grad = grad ? dgrad.data() : nullptr;
    req.use_float = precision == ScorePrecision::kFloat && grad == nullptr;
    run(dXc.data(), m, req);
    values->resize(m);
    dvalues.download(values->data(), m);
    if (grad) {
      grad->resize(m, d_);
      dgrad.download(grad->data(), std::size_t(m) * d_);
    }
  }

  /// The k best rows of Xc, scored and stably sorted on the device.
  std::vector<Eigen::Index> top_k(const AcquisitionParams& acq, const Eigen::MatrixXd& Xc, int k,
                                  Eigen::VectorXd* values, ScorePrecision precision) const {
    const int m = static_cast<int>(Xc.rows());
    const int kk = std::clamp(k, 0, m);
    CudaResources::Lock lock(*res_);
    const Stream st = res_->stream();
    const DeviceBuffer<double> dXc = upload(Xc.data(), std::size_t(m) * d_, st);
    DeviceBuffer<double> dmean_v(m, st), dvar_v(m, st), dvalues(m, st);
    DeviceBuffer<long long> index(m, st);
    PosteriorRequest req;
    req.mean = dmean_v.data();
    req.var = dvar_v.data();
    req.acq = &acq;
    req.values = dvalues.data();
    req.use_float = precision == ScorePrecision::kFloat;
    run(dXc.data(), m, req);
    std::vector<Eigen::Index> order(kk);
    if (m == 0) return order;
    const auto policy = thrust_policy(st);
    // Raw device pointers: the explicit policy says where they point.
    long long* idx = index.data();
    double* val = dvalues.data();
    thrust_call("top-k sort", [&] {
      thrust::sequence(policy, idx, idx + m);
      // A stable sort, descending: ties keep row order, as the host path's stable sort does.
      thrust::stable_sort_by_key(policy, val, val + m, idx, thrust::greater<double>());
    });
    std::vector<long long> top(kk);
    index.download(top.data(), kk);
    for (int i = 0; i < kk; ++i) order[i] = static_cast<Eigen::Index>(top[i]);
    if (values) {
      values->resize(kk);
      dvalues.download(values->data(), kk);
    }
    return order;
  }

  Eigen::MatrixXd covariance(const Eigen::MatrixXd& A, const Eigen::MatrixXd& B) const override {
    const int a = static_cast<int>(A.rows()), b = static_cast<int>(B.rows());
    Eigen::MatrixXd C(a, b);
    if (a == 0 || b == 0) return C;
    CudaResources::Lock lock(*res_);
    const Stream st = res_->stream();
    const bool same = &A == &B;
    const DeviceBuffer<double> dA = upload(A.data(), std::size_t(a) * d_, st);
    const DeviceBuffer<double> dB =
        same ? DeviceBuffer<double>() : upload(B.data(), std::size_t(b) * d_, st);
    const double* pB = same ? dA.data() : dB.data();
    DeviceBuffer<double> dC(std::size_t(a) * b, st);
    cross(a, dA.data(), pB, b, b, dC.data());  // k(A, B): A in the role of X
    if (n_ > 0) {
      DeviceBuffer<double> VA = whitened(dA.data(), a);
      DeviceBuffer<double> VB = same ? DeviceBuffer<double>() : whitened(pB, b);
      const double minus_one = -1.0, one = 1.0;
      GPBO_CUBLAS_TRY(cublasDgemm(res_->cublas(), CUBLAS_OP_T, CUBLAS_OP_N, a, b, n_, &minus_one,
                                  VA.data(), n_, same ? VA.data() : VB.data(), n_, &one, dC.data(),
                                  a));
    }
    dC.download(C.data(), C.size());
    return C;
  }

  void append(const Eigen::MatrixXd& Xnew, const Eigen::VectorXd& ynew) override {
    if (Xnew.rows() == 0) return;
    CudaResources::Lock lock(*res_);
    const Stream st = res_->stream();
    const int n = n_, k = static_cast<int>(Xnew.rows());
    DeviceBuffer<double> resid(std::size_t(n) + k, st);
    if (n > 0) {
      GPBO_CUDA_TRY(cudaMemcpyAsync(resid.data(), resid_.data(), sizeof(double) * n,
                                    cudaMemcpyDeviceToDevice, st));
    }
    const Eigen::VectorXd tail = (ynew.array() - h_.mean).matrix();
    GPBO_CUDA_TRY(cudaMemcpyAsync(resid.data() + n, tail.data(), sizeof(double) * k,
                                  cudaMemcpyHostToDevice, st));
    append_rows(Xnew);
    resid_ = std::move(resid);
    update_alpha();
    GPBO_CUDA_TRY(cudaStreamSynchronize(st));
  }

  void extend(const Eigen::MatrixXd& Xnew, const Eigen::VectorXd& y) override {
    if (y.size() != n_ + Xnew.rows()) {
      throw InvalidArgument("posterior factor: " + std::to_string(y.size()) + " values for " +
                            std::to_string(n_ + Xnew.rows()) + " rows");
    }
    CudaResources::Lock lock(*res_);
    const Stream st = res_->stream();
    const Eigen::VectorXd resid = (y.array() - h_.mean).matrix();
    DeviceBuffer<double> dresid = upload(resid.data(), std::size_t(resid.size()), st);
    append_rows(Xnew);
    resid_ = std::move(dresid);
    L32_ = DeviceBuffer<float>();
    alpha32_ = DeviceBuffer<float>();
    update_alpha();
    GPBO_CUDA_TRY(cudaStreamSynchronize(st));
  }

  void truncate(int m) override {
    if (m < 0 || m > n_) {
      throw InvalidArgument("posterior factor: cannot keep " + std::to_string(m) + " of " +
                            std::to_string(n_) + " rows");
    }
    if (m == n_) return;
    CudaResources::Lock lock(*res_);
    const Stream st = res_->stream();
    // The factor of the first m rows is the leading m x m block of L, where it is: the rows
    // after it become spare rows again. The first m rows of X move (column-major, ld n_ -> m).
    DeviceBuffer<double> X(std::size_t(m) * d_, st), resid(m, st);
    if (m > 0) {
      GPBO_CUDA_TRY(cudaMemcpy2DAsync(X.data(), sizeof(double) * m, X_.data(), sizeof(double) * n_,
                                      sizeof(double) * m, d_, cudaMemcpyDeviceToDevice, st));
      GPBO_CUDA_TRY(cudaMemcpyAsync(resid.data(), resid_.data(), sizeof(double) * m,
                                    cudaMemcpyDeviceToDevice, st));
    }
    X_ = std::move(X);
    resid_ = std::move(resid);
    n_ = m;
    L32_ = DeviceBuffer<float>();
    alpha32_ = DeviceBuffer<float>();
    update_alpha();
    GPBO_CUDA_TRY(cudaStreamSynchronize(st));
  }

  Eigen::MatrixXd inputs() const override {
    CudaResources::Lock lock(*res_);
    Eigen::MatrixXd X(n_, d_);
    if (n_ > 0) X_.download(X.data(), std::size_t(n_) * d_);
    return X;
  }

  std::unique_ptr<PosteriorFactor> clone() const override {
    CudaResources::Lock lock(*res_);
    const Stream st = res_->stream();
    auto c = std::make_unique<CudaPosteriorFactor>(res_, kernel_, h_);
    c->n_ = n_;
    c->d_ = d_;
    c->ld_ = ld_;
    c->jitter_ = jitter_;
    c->X_ = copy(X_);
    c->L_ = copy(L_);
    c->resid_ = copy(resid_);
    c->alpha_ = copy(alpha_);
    c->inv_l_ = copy(inv_l_);
    GPBO_CUDA_TRY(cudaStreamSynchronize(st));
    return c;
  }

 private:
  /// Appends rows to X and to the factor, not to the values (the caller sets resid_ and
  /// re-solves). Caller holds the lock. A failure leaves the factor unchanged.
  void append_rows(const Eigen::MatrixXd& Xnew) {
    const int k = static_cast<int>(Xnew.rows());
    if (k == 0) return;
    const Stream st = res_->stream();
    const int n = n_, N = n_ + k, d = d_;
    const DeviceBuffer<double> dXnew = upload(Xnew.data(), std::size_t(k) * d, st);
    // B = L^{-1} k(X, Xnew) (n x k); C = K(Xnew) + noise I + jitter I - B^T B (lower, k x k).
    DeviceBuffer<double> B(std::size_t(n) * k, st);
    if (n > 0) {
      for_each_2d(st, n, k,
                  CrossCov<double>{{n, d, X_.data(), dXnew.data(), std::size_t(k), inv_l_.data(),
                                    kernel_, h_.outputscale},
                                   B.data()});
      trsm(*res_, n, k, L_.data(), ld_, CUBLAS_OP_N, B.data());
    }
    DeviceBuffer<double> C(std::size_t(k) * k, st), Cwork(std::size_t(k) * k, st);
    GPBO_CUDA_TRY(cudaMemsetAsync(C.data(), 0, C.size() * sizeof(double), st));
    for_each_2d(st, k, k,
                TrainCov{k, d, dXnew.data(), inv_l_.data(), kernel_, h_.outputscale, h_.noise,
                         C.data(), std::size_t(k)});
    if (jitter_ != 0.0) for_each_index(st, k, AddDiagonal{jitter_, C.data(), std::size_t(k)});
    if (n > 0) {
      const double minus_one = -1.0, one = 1.0;
      GPBO_CUBLAS_TRY(cublasDsyrk(res_->cublas(), CUBLAS_FILL_MODE_LOWER, CUBLAS_OP_T, k, n,
                                  &minus_one, B.data(), n, &one, C.data(), k));
    }
    cholesky_ladder(
        *res_, k, Cwork.data(), k,
        [&] {
          GPBO_CUDA_TRY(cudaMemcpyAsync(Cwork.data(), C.data(), C.size() * sizeof(double),
                                        cudaMemcpyDeviceToDevice, st));
        },
        "appending to the Cholesky factor");
    // [L 0; B^T Lc]: written into the spare rows (nothing above changed the factor, so a
    // failure there leaves it as it was), after moving it into a larger buffer when they run
    // out.
    if (N > ld_) {
      const int ld = capacity_for(N);
      DeviceBuffer<double> L = zeroed(ld);
      if (n > 0) {
        GPBO_CUDA_TRY(cudaMemcpy2DAsync(L.data(), sizeof(double) * ld, L_.data(),
                                        sizeof(double) * ld_, sizeof(double) * n, n,
                                        cudaMemcpyDeviceToDevice, st));
      }
      L_ = std::move(L);
      ld_ = ld;
    }
    if (n > 0) {
      const double one = 1.0, zero = 0.0;
      GPBO_CUBLAS_TRY(cublasDgeam(res_->cublas(), CUBLAS_OP_T, CUBLAS_OP_N, k, n, &one, B.data(), n,
                                  &zero, L_.data() + n, ld_, L_.data() + n, ld_));
    }
    GPBO_CUDA_TRY(cudaMemcpy2DAsync(L_.data() + n + std::size_t(n) * ld_, sizeof(double) * ld_,
                                    Cwork.data(), sizeof(double) * k, sizeof(double) * k, k,
                                    cudaMemcpyDeviceToDevice, st));
    DeviceBuffer<double> X(std::size_t(N) * d, st);
    if (n > 0) {
      GPBO_CUDA_TRY(cudaMemcpy2DAsync(X.data(), sizeof(double) * N, X_.data(), sizeof(double) * n,
                                      sizeof(double) * n, d, cudaMemcpyDeviceToDevice, st));
    }
    GPBO_CUDA_TRY(cudaMemcpy2DAsync(X.data() + n, sizeof(double) * N, dXnew.data(),
                                    sizeof(double) * k, sizeof(double) * k, d,
                                    cudaMemcpyDeviceToDevice, st));
    X_ = std::move(X);
    n_ = N;
    L32_ = DeviceBuffer<float>();
    alpha32_ = DeviceBuffer<float>();
  }

  DeviceBuffer<double> copy(const DeviceBuffer<double>& b) const {
    DeviceBuffer<double> c(b.size(), res_->stream());
    if (!b.empty()) {
      GPBO_CUDA_TRY(cudaMemcpyAsync(c.data(), b.data(), b.size() * sizeof(double),
                                    cudaMemcpyDeviceToDevice, res_->stream()));
    }
    return c;
  }

  /// A zeroed ld x ld buffer for the factor (caller holds the lock).
  DeviceBuffer<double> zeroed(int ld) const {
    DeviceBuffer<double> L(std::size_t(ld) * ld, res_->stream());
    if (ld > 0) {
      GPBO_CUDA_TRY(cudaMemsetAsync(L.data(), 0, L.size() * sizeof(double), res_->stream()));
    }
    return L;
  }

  /// Rows of the buffer a factor of n rows is made in: n / 16 + 16 spare ones, as on the CPU,
  /// so that the trials completed between asks and the fantasies of running ones are appended
  /// in place, when the device has room for them beside a sixteenth of its memory kept free
  /// for the candidates; else none (the GP's memory check counts the n x n factor only). The
  /// pool's own free blocks count as room. Caller holds the lock.
  int capacity_for(int n) const {
    const std::size_t spare = std::size_t(n) + n / 16 + 16;
    return res_->available_memory() >= 8 * spare * spare + res_->total_memory() / 16
               ? static_cast<int>(spare)
               : n;
  }

  /// alpha = L^{-T} L^{-1} resid.
  void update_alpha() {
    alpha_ = copy(resid_);
    trsv(*res_, n_, L_.data(), ld_, CUBLAS_OP_N, alpha_.data());
    trsv(*res_, n_, L_.data(), ld_, CUBLAS_OP_T, alpha_.data());
  }

  /// out (rows x cols, ld rows) = s rho(r2(P_i, Q_c)) for P (rows x d, ld rows), Q (ld ldq).
  void cross(int rows, const double* P, const double* Q, std::size_t ldq, int cols,
             double* out) const {
    // cross_cov_kernel reads its first operand with ld = rows.
    for_each_2d(
        res_->stream(), rows, cols,
        CrossCov<double>{{rows, d_, P, Q, ldq, inv_l_.data(), kernel_, h_.outputscale}, out});
  }

  /// L^{-1} k(X, P) for the p rows of P (ld p): n x p.
  DeviceBuffer<double> whitened(const double* P, int p) const {
    DeviceBuffer<double> V(std::size_t(n_) * p, res_->stream());
    for_each_2d(res_->stream(), n_, p,
                CrossCov<double>{
                    {n_, d_, X_.data(), P, std::size_t(p), inv_l_.data(), kernel_, h_.outputscale},
                    V.data()});
    trsm(*res_, n_, p, L_.data(), ld_, CUBLAS_OP_N, V.data());
    return V;
  }

  /// Float copies of L and alpha for the float32 scoring path, made once per factor state.
  void ensure_float() const {
    if (!L32_.empty() || n_ == 0) return;
    const Stream st = res_->stream();
    L32_ = DeviceBuffer<float>(std::size_t(n_) * n_, st);
    alpha32_ = DeviceBuffer<float>(alpha_.size(), st);
    for_each_2d(st, n_, n_,
                ConvertLower<float>{L_.data(), std::size_t(ld_), L32_.data(), std::size_t(n_)});
    for_each_index(st, alpha_.size(), Convert<float>{alpha_.data(), alpha32_.data()});
  }

  void run(const double* dXc, int m, const PosteriorRequest& req) const {
    if (m == 0) return;
    if (req.use_float) {
      ensure_float();
      run_typed<float>(dXc, m, req, L32_.data(), n_, alpha32_.data());
    } else {
      run_typed<double>(dXc, m, req, L_.data(), ld_, alpha_.data());
    }
  }

  /// The candidate pipeline, in chunks of columns: Ks^T = k(X, Xc) (n x mc); mean = Ks alpha;
  /// V = L^{-1} Ks^T; var = s - |V_c|^2; acquisition values through the Thrust functors; for
  /// gradients W = L^{-T} V and one coefficient matrix E (grad_coefficient) contracted with
  /// GEMV/GEMM, so no n x mc x d array ever exists.
  template <typename T>
  void run_typed(const double* dXc, int m, const PosteriorRequest& req, const T* L, int ldl,
                 const T* alpha) const {
    CudaResources& r = *res_;
    const Stream st = r.stream();
    const int n = n_, d = d_;
    const double s = h_.outputscale;
    const bool need_grad_acq = req.grad != nullptr;
    const bool need_w = req.dvar != nullptr || need_grad_acq;
    const bool need_var = req.want_var || req.dvar != nullptr || req.values != nullptr;
    const bool separate_e = req.dmean != nullptr && need_w;
    const bool any_grad = req.dmean || req.dvar || need_grad_acq;
    if (!std::is_same<T, double>::value && any_grad) {
      throw InvalidArgument("float32 scoring computes values only; gradients are double");
    }
    if (n == 0) {  // the prior: mean h.mean, variance s, flat gradients
      for_each_index(st, m, Fill{h_.mean, req.mean});
      for_each_index(st, m, Fill{s, req.var});
      for (double* g : {req.dmean, req.dvar, req.grad}) {
        if (g) GPBO_CUDA_TRY(cudaMemsetAsync(g, 0, sizeof(double) * m * d, st));
      }
      if (req.values) apply_acquisition(m, req, nullptr, nullptr);
      return;
    }
    const int buffers = separate_e ? 2 : 1;
    const std::size_t per_column = std::size_t(n) * sizeof(T) * buffers;
    const int mc_max = static_cast<int>(
        std::clamp<std::size_t>(kChunkBytes / per_column, 1, std::min(m, kMaxGridY)));
    DeviceBuffer<T> Kt(std::size_t(n) * mc_max, st);
    DeviceBuffer<double> E(separate_e ? std::size_t(n) * mc_max : 0, st);
    DeviceBuffer<T> raw_mean(std::is_same<T, double>::value ? 0 : mc_max, st);
    DeviceBuffer<double> dm(need_grad_acq ? mc_max : 0, st), dv(need_grad_acq ? mc_max : 0, st);
    DeviceBuffer<double> colsum(any_grad ? mc_max : 0, st);
    DeviceBuffer<double> XtE(any_grad ? std::size_t(d) * mc_max : 0, st);
    const DeviceBuffer<double> one_n = any_grad ? ones(n, st) : DeviceBuffer<double>();

    for (int c0 = 0; c0 < m; c0 += mc_max) {
      const int mc = std::min(mc_max, m - c0);
      const double* C = dXc + c0;  // chunk rows of Xc, ld m
      const PairGeometry geo{n, d, X_.data(), C, std::size_t(m), inv_l_.data(), kernel_, s};
      for_each_2d(st, n, mc, CrossCov<T>{geo, Kt.data()});
      // mean = Ks alpha + h.mean
      T* mean_out =
          std::is_same<T, double>::value ? reinterpret_cast<T*>(req.mean + c0) : raw_mean.data();
      gemv_t(r, n, mc, Kt.data(), alpha, mean_out);
      if (!std::is_same<T, double>::value || h_.mean != 0.0) {
        for_each_index(st, mc, FinishMean<T>{mean_out, h_.mean, req.mean + c0});
      }
      auto gradient = [&](const double* W, double* E_out, const double* dmp, double dmc,
                          const double* dvp, double dvc, double* out) {
        for_each_2d(st, n, mc, GradCoef{geo, alpha_.data(), W, dmp, dmc, dvp, dvc, E_out});
        gemv_t(r, n, mc, E_out, one_n.data(), colsum.data());
        const double one = 1.0, zero = 0.0;
        GPBO_CUBLAS_TRY(cublasDgemm(r.cublas(), CUBLAS_OP_T, CUBLAS_OP_N, d, mc, n, &one, X_.data(),
                                    n, E_out, n, &zero, XtE.data(), d));
        for_each_index(st, std::size_t(mc) * d,
                       XGradient{mc, d, C, std::size_t(m), inv_l_.data(), colsum.data(), XtE.data(),
                                 out + c0, std::size_t(m)});
      };
      if (!need_var) {
        // Only the mean's gradient: E = s rho' alpha overwrites Ks^T, which is spent.
        if (req.dmean) {
          gradient(nullptr, reinterpret_cast<double*>(Kt.data()), nullptr, 1.0, nullptr, 0.0,
                   req.dmean);
        }
        continue;
      }
      trsm(r, n, mc, L, ldl, CUBLAS_OP_N, Kt.data());  // V
      for_each_segment(st, mc, Variance<T>{n, Kt.data(), s, req.var + c0});
      if (req.values) {
        apply_acquisition(mc, req, need_grad_acq ? dm.data() : nullptr,
                          need_grad_acq ? dv.data() : nullptr, c0);
      }
      if (req.dmean && !separate_e) {
        // Variance wanted but no W: V is spent, reuse its buffer.
        gradient(nullptr, reinterpret_cast<double*>(Kt.data()), nullptr, 1.0, nullptr, 0.0,
                 req.dmean);
      }
      if (!need_w) continue;
      // From here T is double: gradients never take the float path.
      double* W = reinterpret_cast<double*>(Kt.data());
      trsm(r, n, mc, L_.data(), ld_, CUBLAS_OP_T, W);  // W = K^{-1} k(X, xc)
      if (req.dmean && separate_e) {
        gradient(nullptr, E.data(), nullptr, 1.0, nullptr, 0.0, req.dmean);
      }
      if (req.dvar) {
        // dvar: E = -2 s rho' W, i.e. dm = 0, dv = 1.
        gradient(W, separate_e ? E.data() : W, nullptr, 0.0, nullptr, 1.0, req.dvar);
      }
      if (need_grad_acq) gradient(W, W, dm.data(), 0.0, dv.data(), 0.0, req.grad);
    }
    GPBO_CUDA_TRY(cudaStreamSynchronize(st));
  }

  /// values[c0 + c] (and the chain weights dm, dv when not null) from mean and var.
  void apply_acquisition(int mc, const PosteriorRequest& req, double* dm, double* dv,
                         int c0 = 0) const {
    const auto policy = thrust_policy(res_->stream());
    const double* mean = req.mean + c0;
    const double* var = req.var + c0;
    auto first = thrust::make_zip_iterator(thrust::make_tuple(mean, var));
    thrust_call("acquisition values", [&] {
      thrust::transform(policy, first, first + mc, req.values + c0, AcquisitionValueOp{*req.acq});
      if (dm != nullptr) {
        auto out = thrust::make_zip_iterator(thrust::make_tuple(dm, dv));
        thrust::transform(policy, first, first + mc, out, AcquisitionChainOp{*req.acq});
      }
    });
  }

  // Outlives the buffers below (declared first): they free on its stream.
  std::shared_ptr<CudaResources> res_;
  KernelType kernel_;
  GpHyperparameters h_;
  int n_ = 0, d_ = 0;
  int ld_ = 0;  ///< rows (and columns) of L_'s buffer: n_ and the spare ones after them
  double jitter_ = 0.0;
  DeviceBuffer<double> inv_l_, X_, L_, resid_, alpha_;
  mutable DeviceBuffer<float> L32_, alpha32_;
};

// ------------------------------------------------------------------ backend

class CudaBackend final : public Backend {
 public:
  CudaBackend(int ordinal, const CudaBackendOptions& options)
      : res_(std::make_shared<CudaResources>(ordinal)), options_(options) {}

  Device device() const override { return Device::cuda(res_->device()); }

  std::size_t memory_bytes() const override {
    CudaResources::Lock lock(*res_);
    return res_->total_memory();
  }

  MemoryNeed memory_need(Eigen::Index n) const override {
    // The likelihood: K, inverted in place by potri, or above the legacy limit by trtri into
    // L^{-1} and a syrk into a second n x n buffer. A factor: L (spare rows only where the
    // device has room for them: capacity_for), and its float32 copy when scoring in float.
    // The O(n d) and O(m n) buffers are within the quarter of the device the default limit
    // leaves.
    const double nn = static_cast<double>(n), square = 8.0 * nn * nn;
    const bool two = use_64bit_solver(n, n);
    const double float_copy = options_.scoring == ScorePrecision::kFloat ? square / 2 : 0.0;
    return {two ? 2 * square : square, square + float_copy};
  }

  using Backend::log_marginal_likelihood;
  // No scratch: the device buffers come from the resources' pool, which keeps freed blocks.
  double log_marginal_likelihood(KernelType kernel, const GpHyperparameters& h,
                                 const Eigen::MatrixXd& X_in, const Eigen::VectorXd& y,
                                 Eigen::VectorXd* grad, LikelihoodScratch*) const override {
    const int n = static_cast<int>(X_in.rows()), d = static_cast<int>(X_in.cols());
    if (n == 0) {
      if (grad) *grad = Eigen::VectorXd::Zero(d + 3);
      return 0.0;
    }
    CudaResources::Lock lock(*res_);
    CudaResources& r = *res_;
    const Stream st = r.stream();
    // Distances are translation invariant; centring keeps the gradient sums accurate (as on
    // the CPU).
    const Eigen::MatrixXd X = X_in.rowwise() - X_in.colwise().mean();
    const Eigen::VectorXd inv_l = inverse_lengthscales(h);
    const Eigen::VectorXd resid = (y.array() - h.mean).matrix();
    const DeviceBuffer<double> dX = upload(X.data(), std::size_t(n) * d, st);
    const DeviceBuffer<double> dinv = upload(inv_l.data(), d, st);
    DeviceBuffer<double> alpha = upload(resid.data(), n, st);
    DeviceBuffer<double> K(std::size_t(n) * n, st);
    // The fill writes the lower triangle only; the 64-bit inverse reads the upper one as zero.
    GPBO_CUDA_TRY(cudaMemsetAsync(K.data(), 0, K.size() * sizeof(double), st));
    const double s = h.outputscale, noise = h.noise;
    const LadderResult lr = cholesky_ladder(
        r, n, K.data(), n,
        [&] {
          for_each_2d(
              st, n, n,
              TrainCov{n, d, dX.data(), dinv.data(), kernel, s, noise, K.data(), std::size_t(n)});
        },
        "log marginal likelihood");
    trsv(r, n, K.data(), n, CUBLAS_OP_N, alpha.data());
    double quad = 0.0;
    GPBO_CUBLAS_TRY(cublasDdot(r.cublas(), n, alpha.data(), 1, alpha.data(), 1, &quad));
    trsv(r, n, K.data(), n, CUBLAS_OP_T, alpha.data());
    const double lml = -0.5 * quad - lr.log_det - 0.5 * n * kLog2Pi;
    if (!grad) return lml;

    // dLML/dtheta = 0.5 tr((alpha alpha^T - K^{-1}) dK/dtheta) (Rasmussen & Williams eq. 5.9),
    // contracted on the device: only d + 3 scalars come back. Kinv is K's buffer (32-bit API) or
    // a second n x n one (64-bit).
    DeviceBuffer<double> spare;
    double* Kinv = cholesky_inverse(r, n, K.data(), &spare, "log marginal likelihood");
    if (Kinv != K.data()) K = DeviceBuffer<double>();
    DeviceBuffer<double> partial(2 * std::size_t(n), st);
    for_each_segment(st, n,
                     LmlContract{n, d, dX.data(), dinv.data(), kernel, s, alpha.data(), Kinv,
                                 std::size_t(n), partial.data()});
    DeviceBuffer<double> scalars(d + 3, st);  // [lengthscales (d), outputscale, trace, sum alpha]
    for_each_segment(st, 1, sum_into(n, StridedValue{partial.data(), 1}, scalars.data() + d));
    for_each_segment(st, 1,
                     sum_into(n, StridedValue{partial.data() + n, 1}, scalars.data() + d + 1));
    for_each_segment(st, 1, sum_into(n, StridedValue{alpha.data(), 1}, scalars.data() + d + 2));
    // rows = M 1 and MX = M X with M symmetric, stored in the lower triangle.
    const DeviceBuffer<double> one_n = ones(n, st);
    DeviceBuffer<double> rows(n, st), MX(std::size_t(n) * d, st);
    const double one = 1.0, zero = 0.0;
    GPBO_CUBLAS_TRY(cublasDsymv(r.cublas(), CUBLAS_FILL_MODE_LOWER, n, &one, Kinv, n, one_n.data(),
                                1, &zero, rows.data(), 1));
    GPBO_CUBLAS_TRY(cublasDsymm(r.cublas(), CUBLAS_SIDE_LEFT, CUBLAS_FILL_MODE_LOWER, n, d, &one,
                                Kinv, n, dX.data(), n, &zero, MX.data(), n));
    for_each_segment(
        st, d, LengthscaleGrad{n, dX.data(), rows.data(), MX.data(), dinv.data(), scalars.data()});
    Eigen::VectorXd out(d + 3);
    scalars.download(out.data(), d + 3);
    out(d) *= 0.5;
    out(d + 1) *= 0.5 * h.noise;
    *grad = std::move(out);
    return lml;
  }

  std::unique_ptr<PosteriorFactor> factor(KernelType kernel, const GpHyperparameters& h,
                                          const Eigen::MatrixXd& X,
                                          const Eigen::VectorXd& y) const override {
    CudaResources::Lock lock(*res_);
    auto f = std::make_unique<CudaPosteriorFactor>(res_, kernel, h);
    f->init(X, y);
    GPBO_CUDA_TRY(cudaStreamSynchronize(res_->stream()));
    return f;
  }

  Eigen::MatrixXd cholesky(const Eigen::MatrixXd& S, double* jitter) const override {
    const int n = static_cast<int>(S.rows());
    Eigen::MatrixXd L(n, n);
    if (n == 0) {
      if (jitter) *jitter = 0.0;
      return L;
    }
    CudaResources::Lock lock(*res_);
    const Stream st = res_->stream();
    DeviceBuffer<double> A(std::size_t(n) * n, st);
    const LadderResult lr = cholesky_ladder(
        *res_, n, A.data(), n, [&] { A.upload(S.data(), std::size_t(n) * n); },
        "joint posterior covariance");
    A.download(L.data(), L.size());
    L.triangularView<Eigen::StrictlyUpper>().setZero();
    if (jitter) *jitter = lr.jitter;
    return L;
  }

  void score(const PosteriorFactor& f, const AcquisitionParams& acq, const Eigen::MatrixXd& Xc,
             Eigen::VectorXd* values, Eigen::MatrixXd* grad) const override {
    const auto* cf = dynamic_cast<const CudaPosteriorFactor*>(&f);
    if (cf == nullptr) return Backend::score(f, acq, Xc, values, grad);
    cf->score(acq, Xc, values, grad, options_.scoring);
  }

  std::vector<Eigen::Index> top_k(const PosteriorFactor& f, const AcquisitionParams& acq,
                                  const Eigen::MatrixXd& Xc, int k,
                                  Eigen::VectorXd* values) const override {
    const auto* cf = dynamic_cast<const CudaPosteriorFactor*>(&f);
    if (cf == nullptr) return Backend::top_k(f, acq, Xc, k, values);
    return cf->top_k(acq, Xc, k, values, options_.scoring);
  }

 private:
  std::shared_ptr<CudaResources> res_;
  CudaBackendOptions options_;
};

}  // namespace

std::unique_ptr<Backend> create_cuda_backend(int ordinal, const CudaBackendOptions& options) {
  return std::make_unique<CudaBackend>(ordinal, options);
}

}  // namespace gpbo::cuda
