// CpuBackend: Eigen for the matrix algebra, OpenBLAS/LAPACK (dpotrf, dpotri) for the Cholesky
// factor and the inverse that the likelihood gradient needs.
#include <lapacke.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <string>

#include "backend/backend.hpp"
#include "backend/jitter.hpp"
#include "backend/kernel_function.hpp"
#include "gpbo/error.hpp"

namespace gpbo {
namespace {

constexpr double kLog2Pi = 1.8378770664093454836;

/// Lower Cholesky factor of K with the smallest rung of the jitter ladder that succeeds, in the
/// leading n x n block of L (L may be larger: spare rows and columns for later appends).
struct Cholesky {
  Eigen::MatrixXd L;
  double jitter = 0.0;
};

/// Factors K with the jitter ladder of backend/jitter.hpp into the leading n x n block of L,
/// resized to `capacity` rows and columns (at least n; storage of that size is reused). Returns
/// the jitter used. Throws NumericalError.
double factor_with_jitter(const Eigen::MatrixXd& K, const char* what, Eigen::MatrixXd& L,
                          Eigen::Index capacity = 0) {
  const Eigen::Index n = K.rows(), cap = std::max(capacity, n);
  if (n == 0) {
    L.resize(0, 0);
    return 0.0;
  }
  return detail::climb_jitter_ladder(K.diagonal().mean(), what, [&](int, double jitter) {
    L.resize(cap, cap);
    L.topLeftCorner(n, n) = K;
    L.topLeftCorner(n, n).diagonal().array() += jitter;
    const lapack_int info = LAPACKE_dpotrf_work(LAPACK_COL_MAJOR, 'L', static_cast<lapack_int>(n),
                                                L.data(), static_cast<lapack_int>(cap));
    if (!detail::factorization_succeeded(static_cast<int>(info), "LAPACKE_dpotrf_work", what)) {
      return false;
    }
    L.topLeftCorner(n, n).triangularView<Eigen::StrictlyUpper>().setZero();
    return true;
  });
}

/// The same into a new buffer of `capacity` rows and columns (at least n).
Cholesky cholesky_with_jitter(const Eigen::MatrixXd& K, const char* what,
                              Eigen::Index capacity = 0) {
  Cholesky c;
  c.jitter = factor_with_jitter(K, what, c.L, capacity);
  return c;
}

/// Spare rows a posterior factor of n rows is allocated with: a factor kept between asks
/// (PosteriorFactor::extend) takes appended trials without copying its n x n block each time.
Eigen::Index spare_rows(Eigen::Index n) { return n / 16 + 16; }

/// Training covariance K(X, X) + noise I into K (exact zeros on the distance diagonal);
/// optionally also D = outputscale * rho'(r2), which the likelihood gradient needs. The
/// distances are made in K's storage (reused when it has the size already), so no other n x n
/// matrix is made.
void train_covariance(KernelType kernel, const GpHyperparameters& h, const Eigen::MatrixXd& X,
                      Eigen::MatrixXd& K, Eigen::MatrixXd* D = nullptr) {
  scaled_sqdist(X, X, h.lengthscales, K);
  K.diagonal().setZero();
  kernel_and_derivative(kernel, h.outputscale, K, &K, D);
  K.diagonal().array() += h.noise;
}

Eigen::MatrixXd train_covariance(KernelType kernel, const GpHyperparameters& h,
                                 const Eigen::MatrixXd& X) {
  Eigen::MatrixXd K;
  train_covariance(kernel, h, X, K);
  return K;
}

/// The n x n matrices of one likelihood evaluation, kept for the next one on as many points.
struct CpuLikelihoodScratch final : LikelihoodScratch {
  Eigen::MatrixXd K, D, L;
};

class CpuPosteriorFactor final : public PosteriorFactor {
 public:
  CpuPosteriorFactor(KernelType kernel, GpHyperparameters h, Eigen::MatrixXd X,
                     Eigen::VectorXd resid, Cholesky chol)
      : kernel_(kernel),
        h_(std::move(h)),
        X_(std::move(X)),
        resid_(std::move(resid)),
        buf_(std::move(chol.L)),
        jitter_(chol.jitter) {
    update_alpha();
  }

  int size() const override { return static_cast<int>(X_.rows()); }
  double jitter() const override { return jitter_; }

  void predict(const Eigen::MatrixXd& Xc, Eigen::VectorXd* mean, Eigen::VectorXd* var,
               Eigen::MatrixXd* dmean, Eigen::MatrixXd* dvar) const override {
    const bool need_grad = dmean || dvar;
    Eigen::MatrixXd Ks, D;  // m x n: k(Xc, X) (made in the distances' storage), s rho'(r2)
    scaled_sqdist(Xc, X_, h_.lengthscales, Ks);
    kernel_and_derivative(kernel_, h_.outputscale, Ks, &Ks, need_grad ? &D : nullptr);
    if (mean) *mean = (Ks * alpha_).array() + h_.mean;
    Eigen::MatrixXd V;  // L^{-1} Ks^T, n x m
    if (var || dvar) {
      V = Ks.transpose();
      L().triangularView<Eigen::Lower>().solveInPlace(V);
    }
    if (var) *var = (h_.outputscale - V.colwise().squaredNorm().transpose().array()).cwiseMax(0.0);
    if (!need_grad) return;
    // d k(x, x_i) / dx = outputscale * rho'(r2) * 2 (x - x_i) / l^2.
    const Eigen::RowVectorXd inv_l2 = h_.lengthscales.array().square().inverse().transpose();
    // sum_i C_ci (x_c - x_i) for a coefficient matrix C (m x n), as two GEMM-shaped products.
    auto weighted_diff = [&](const Eigen::MatrixXd& C) {
      Eigen::MatrixXd G = Xc.array().colwise() * C.rowwise().sum().array();
      G.noalias() -= C * X_;
      return Eigen::MatrixXd(2.0 * (G.array().rowwise() * inv_l2.array()));
    };
    if (dmean) *dmean = weighted_diff(D * alpha_.asDiagonal());
    if (dvar) {
      Eigen::MatrixXd W = V;  // K^{-1} Ks^T = L^{-T} V
      L().transpose().triangularView<Eigen::Upper>().solveInPlace(W);
      *dvar = -2.0 * weighted_diff(D.cwiseProduct(W.transpose()));
    }
  }

  void predict_bound(const Eigen::MatrixXd& Xc, Eigen::VectorXd* mean,
                     Eigen::VectorXd* var_bound) const override {
    // The variance given the first p rows only: conditioning on fewer observations (a leading
    // block of the same K + noise I, whose factor is the leading block of L) never lowers the
    // variance. A quarter of the rows costs a sixteenth of the exact solve.
    const Eigen::Index n = X_.rows(), p = std::min(n, std::max<Eigen::Index>(n / 4, 256));
    const Eigen::MatrixXd Ks =
        kernel_from_sqdist(kernel_, h_.outputscale, scaled_sqdist(Xc, X_, h_.lengthscales));
    if (mean) *mean = (Ks * alpha_).array() + h_.mean;
    if (!var_bound) return;
    Eigen::MatrixXd V = Ks.leftCols(p).transpose();
    buf_.topLeftCorner(p, p).triangularView<Eigen::Lower>().solveInPlace(V);
    *var_bound = (h_.outputscale - V.colwise().squaredNorm().transpose().array()).cwiseMax(0.0);
  }

  Eigen::MatrixXd covariance(const Eigen::MatrixXd& A, const Eigen::MatrixXd& B) const override {
    auto whitened = [this](const Eigen::MatrixXd& P) {  // L^{-1} k(X, P), n x p
      Eigen::MatrixXd V =
          kernel_from_sqdist(kernel_, h_.outputscale, scaled_sqdist(X_, P, h_.lengthscales));
      L().triangularView<Eigen::Lower>().solveInPlace(V);
      return V;
    };
    const Eigen::MatrixXd VA = whitened(A);
    Eigen::MatrixXd C =
        kernel_from_sqdist(kernel_, h_.outputscale, scaled_sqdist(A, B, h_.lengthscales));
    if (&A == &B) {
      C.noalias() -= VA.transpose() * VA;
    } else {
      C.noalias() -= VA.transpose() * whitened(B);
    }
    return C;
  }

  void append(const Eigen::MatrixXd& Xnew, const Eigen::VectorXd& ynew) override {
    if (Xnew.rows() == 0) return;
    Eigen::VectorXd resid(resid_.size() + ynew.size());
    resid << resid_, (ynew.array() - h_.mean).matrix();
    append_rows(Xnew);
    resid_ = std::move(resid);
    update_alpha();
  }

  void extend(const Eigen::MatrixXd& Xnew, const Eigen::VectorXd& y) override {
    if (y.size() != X_.rows() + Xnew.rows()) {
      throw InvalidArgument("posterior factor: " + std::to_string(y.size()) + " values for " +
                            std::to_string(X_.rows() + Xnew.rows()) + " rows");
    }
    append_rows(Xnew);
    resid_ = (y.array() - h_.mean).matrix();
    update_alpha();
  }

  void truncate(int n) override {
    if (n < 0 || n > size()) {
      throw InvalidArgument("posterior factor: cannot keep " + std::to_string(n) + " of " +
                            std::to_string(size()) + " rows");
    }
    if (n == size()) return;
    X_.conservativeResize(n, Eigen::NoChange);
    resid_.conservativeResize(n);
    update_alpha();
  }

  Eigen::MatrixXd inputs() const override { return X_; }

  std::unique_ptr<PosteriorFactor> clone() const override {
    return std::make_unique<CpuPosteriorFactor>(*this);
  }

 private:
  /// The factor: the leading n x n block of the buffer (its other rows are spare capacity).
  Eigen::Block<const Eigen::MatrixXd> L() const { return buf_.topLeftCorner(X_.rows(), X_.rows()); }

  /// Appends rows to X and to the factor (not to the values: the caller re-solves). Everything
  /// that can throw runs before the factor changes.
  void append_rows(const Eigen::MatrixXd& Xnew) {
    const Eigen::Index n = X_.rows(), k = Xnew.rows();
    if (k == 0) return;
    Eigen::MatrixXd B = kernel_from_sqdist(kernel_, h_.outputscale,
                                           scaled_sqdist(X_, Xnew, h_.lengthscales));  // n x k
    L().triangularView<Eigen::Lower>().solveInPlace(B);
    Eigen::MatrixXd C = train_covariance(kernel_, h_, Xnew);
    C.diagonal().array() += jitter_;
    C.noalias() -= B.transpose() * B;
    const Cholesky cc = cholesky_with_jitter(C, "appending to the Cholesky factor");
    if (n + k > buf_.rows()) {
      // Out of spare rows: a larger buffer, with room for as many appends again.
      const Eigen::Index cap = n + k + spare_rows(n + k);
      Eigen::MatrixXd grown(cap, cap);
      grown.topLeftCorner(n, n) = L();
      buf_ = std::move(grown);
    }
    buf_.block(0, n, n, k).setZero();
    buf_.block(n, 0, k, n) = B.transpose();
    buf_.block(n, n, k, k) = cc.L;
    X_.conservativeResize(n + k, Eigen::NoChange);
    X_.bottomRows(k) = Xnew;
  }

  void update_alpha() {
    alpha_ = resid_;
    L().triangularView<Eigen::Lower>().solveInPlace(alpha_);
    L().transpose().triangularView<Eigen::Upper>().solveInPlace(alpha_);
  }

  KernelType kernel_;
  GpHyperparameters h_;
  Eigen::MatrixXd X_;
  Eigen::VectorXd resid_, alpha_;
  Eigen::MatrixXd buf_;  // the factor L in its leading size() x size() block
  double jitter_;
};

class CpuBackend final : public Backend {
 public:
  Device device() const override { return Device::cpu(); }

  MemoryNeed memory_need(Eigen::Index n) const override {
    // The likelihood holds K (made in the distances' storage), s rho'(R2) and the factor (then
    // K^{-1} in its place): three n x n matrices. factor() makes K, then the factor in a buffer
    // with spare rows, while K is still alive.
    const double nn = static_cast<double>(n), cap = static_cast<double>(n + spare_rows(n));
    return {3.0 * 8.0 * nn * nn, 8.0 * (nn * nn + cap * cap)};
  }

  std::unique_ptr<LikelihoodScratch> likelihood_scratch() const override {
    return std::make_unique<CpuLikelihoodScratch>();
  }

  using Backend::log_marginal_likelihood;
  double log_marginal_likelihood(KernelType kernel, const GpHyperparameters& h,
                                 const Eigen::MatrixXd& X_in, const Eigen::VectorXd& y,
                                 Eigen::VectorXd* grad, LikelihoodScratch* scratch) const override {
    const Eigen::Index n = X_in.rows(), d = X_in.cols();
    // A scratch of another backend (or none): this evaluation's own matrices.
    CpuLikelihoodScratch own;
    auto* kept = dynamic_cast<CpuLikelihoodScratch*>(scratch);
    CpuLikelihoodScratch& s = kept ? *kept : own;
    // Distances are translation invariant; centring keeps the gradient sums below accurate.
    const Eigen::MatrixXd X = X_in.rowwise() - X_in.colwise().mean();
    train_covariance(kernel, h, X, s.K, grad ? &s.D : nullptr);
    const Eigen::MatrixXd& K = s.K;
    const Eigen::MatrixXd& D = s.D;
    factor_with_jitter(K, "log marginal likelihood", s.L);
    const Eigen::VectorXd resid = y.array() - h.mean;
    Eigen::VectorXd alpha = resid;
    s.L.triangularView<Eigen::Lower>().solveInPlace(alpha);
    const double quad = alpha.squaredNorm();
    s.L.transpose().triangularView<Eigen::Upper>().solveInPlace(alpha);
    const double lml = -0.5 * quad - s.L.diagonal().array().log().sum() - 0.5 * n * kLog2Pi;
    if (!grad) return lml;

    // dLML/dtheta = 0.5 tr((alpha alpha^T - K^{-1}) dK/dtheta) (Rasmussen & Williams eq. 5.9).
    Eigen::MatrixXd& M = s.L;
    const lapack_int info = LAPACKE_dpotri_work(LAPACK_COL_MAJOR, 'L', static_cast<lapack_int>(n),
                                                M.data(), static_cast<lapack_int>(n));
    if (!detail::factorization_succeeded(static_cast<int>(info), "LAPACKE_dpotri_work",
                                         "log marginal likelihood")) {
      throw NumericalError("log marginal likelihood: dpotri failed");
    }
    double trace_m = 0.0, sum_mk = 0.0;
    // M = alpha alpha^T - K^{-1}, then A = M o (s rho'(R2)), on the lower triangle only (the
    // column-wise sweep stays contiguous; the products below read it as a symmetric matrix).
    for (Eigen::Index j = 0; j < n; ++j) {
      const double aj = alpha(j);
      const double mjj = aj * aj - M(j, j);
      trace_m += mjj;
      sum_mk += mjj * (K(j, j) - h.noise);
      M(j, j) = mjj * D(j, j);
      double col = 0.0;
      for (Eigen::Index i = j + 1; i < n; ++i) {
        const double m = alpha(i) * aj - M(i, j);
        col += m * K(i, j);
        M(i, j) = m * D(i, j);
      }
      sum_mk += 2.0 * col;
    }
    grad->resize(d + 3);
    // d K_ik / d log l_j = A-weight * (-2 (x_ij - x_kj)^2 / l_j^2), summed via row sums and A X.
    const auto A = M.selfadjointView<Eigen::Lower>();
    const Eigen::VectorXd rows = A * Eigen::VectorXd::Ones(n);
    const Eigen::MatrixXd AX = A * X;
    for (Eigen::Index j = 0; j < d; ++j) {
      const double s = X.col(j).array().square().matrix().dot(rows) - X.col(j).dot(AX.col(j));
      (*grad)(j) = -2.0 * s / (h.lengthscales(j) * h.lengthscales(j));
    }
    (*grad)(d) = 0.5 * sum_mk;
    (*grad)(d + 1) = 0.5 * h.noise * trace_m;
    (*grad)(d + 2) = alpha.sum();
    return lml;
  }

  Eigen::MatrixXd cholesky(const Eigen::MatrixXd& S, double* jitter) const override {
    Cholesky c = cholesky_with_jitter(S, "joint posterior covariance");
    if (jitter) *jitter = c.jitter;
    return std::move(c.L);
  }

  std::unique_ptr<PosteriorFactor> factor(KernelType kernel, const GpHyperparameters& h,
                                          const Eigen::MatrixXd& X,
                                          const Eigen::VectorXd& y) const override {
    Cholesky chol = cholesky_with_jitter(train_covariance(kernel, h, X), "posterior",
                                         X.rows() + spare_rows(X.rows()));
    return std::make_unique<CpuPosteriorFactor>(kernel, h, X, (y.array() - h.mean).matrix(),
                                                std::move(chol));
  }
};

}  // namespace

std::unique_ptr<Backend> make_cpu_backend() { return std::make_unique<CpuBackend>(); }

}  // namespace gpbo
