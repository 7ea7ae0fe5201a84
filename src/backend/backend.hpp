#pragma once
// The backend seam: every O(n^3) and O(m n^2) operation of the GP goes through these two
// interfaces, implemented by CpuBackend (Eigen + LAPACK) and, in CUDA builds, CudaBackend.
// Shapes: X is n x d (one observation per row, encoded unit-cube inputs), y has length n,
// candidate blocks Xc are m x d. All host-side Eigen types; a device backend copies in and out.

#include <Eigen/Core>
#include <cstddef>
#include <memory>
#include <vector>

#include "backend/acquisition_functors.hpp"
#include "gpbo/device.hpp"
#include "gpbo/kernel.hpp"

namespace gpbo {

/// A factorized GP posterior (Cholesky factor of K + noise I and the weights alpha), resident
/// wherever its backend keeps data.
class PosteriorFactor {
 public:
  virtual ~PosteriorFactor() = default;
  /// Number of conditioned observations (including appended ones).
  virtual int size() const = 0;
  /// Jitter added to the diagonal to make the factorization succeed (0 when none was needed).
  virtual double jitter() const = 0;
  /// Posterior mean and latent variance at the rows of Xc (m x d). `dmean`/`dvar` (m x d), when
  /// not null, receive their gradients in x.
  virtual void predict(const Eigen::MatrixXd& Xc, Eigen::VectorXd* mean, Eigen::VectorXd* var,
                       Eigen::MatrixXd* dmean = nullptr, Eigen::MatrixXd* dvar = nullptr) const = 0;
  /// Posterior mean at the rows of Xc and an upper bound of the latent variance, cheaper than
  /// predict(): screens candidates for an acquisition that grows with the variance
  /// (Backend::top_k). The default is predict()'s exact variance, its own bound.
  virtual void predict_bound(const Eigen::MatrixXd& Xc, Eigen::VectorXd* mean,
                             Eigen::VectorXd* var_bound) const {
    predict(Xc, mean, var_bound);
  }
  /// Posterior covariance of the latent function between the rows of A (a x d) and B (b x d):
  /// k(A, B) - k(A, X) K^{-1} k(X, B), an a x b matrix (joint draws, batch acquisitions).
  virtual Eigen::MatrixXd covariance(const Eigen::MatrixXd& A, const Eigen::MatrixXd& B) const = 0;
  /// Conditions on extra observations by appending rows to the Cholesky factor (no refit).
  /// Throws NumericalError if the extended matrix is not positive definite.
  virtual void append(const Eigen::MatrixXd& Xnew, const Eigen::VectorXd& ynew) = 0;
  /// Appends the rows Xnew (k x d) as append() does, then conditions on `y`, new values for all
  /// size() + k rows (old rows first): the factor depends on the inputs and hyperparameters
  /// only, so new values cost two triangular solves, O(n^2). k may be 0 (new values only).
  /// Throws InvalidArgument when y has the wrong length, NumericalError as append() does; on a
  /// throw the factor is unchanged.
  virtual void extend(const Eigen::MatrixXd& Xnew, const Eigen::VectorXd& y) = 0;
  /// Keeps the first n rows (drops fantasies appended after them): the factor of the first n
  /// rows is exactly the leading block of the longer one. The weights are re-solved for the
  /// kept values. Throws InvalidArgument unless 0 <= n <= size().
  virtual void truncate(int n) = 0;
  /// The conditioned inputs, size() x d, in row order (appended rows last).
  virtual Eigen::MatrixXd inputs() const = 0;
  virtual std::unique_ptr<PosteriorFactor> clone() const = 0;
};

/// Memory that a run of likelihood evaluations on as many points reuses: a hyperparameter
/// search evaluates the likelihood dozens of times, and fresh n x n buffers each time cost page
/// faults (on the CPU a sixth to a quarter of an evaluation at n = 250 to 2,000). Made by
/// Backend::likelihood_scratch(), held by the caller for the search and dropped after it, so it
/// is never kept beside the factor; at its largest it is memory_need(n).likelihood.
class LikelihoodScratch {
 public:
  virtual ~LikelihoodScratch() = default;
};

/// Dense GP math on one device.
class Backend {
 public:
  virtual ~Backend() = default;
  virtual Device device() const = 0;
  /// Bytes of the memory the backend's matrices live in: the host's physical memory for the
  /// CPU, the device's global memory for CUDA (the GP refuses data sets that would not fit).
  virtual std::size_t memory_bytes() const;

  /// Peak bytes of the backend's memory (host or device) for the GP's work on n observations,
  /// which the GP checks against its limit before it allocates anything.
  struct MemoryNeed {
    double likelihood = 0.0;  ///< one log_marginal_likelihood() with its gradient
    double factor = 0.0;      ///< factor(), and appends while the factor has spare rows
  };
  virtual MemoryNeed memory_need(Eigen::Index n) const = 0;

  /// A scratch for log_marginal_likelihood(); null where the backend has no use for one (the
  /// CUDA backend's buffers come from its memory pool, which keeps freed blocks).
  virtual std::unique_ptr<LikelihoodScratch> likelihood_scratch() const { return nullptr; }

  /// Log marginal likelihood of y under GP(mean, k) + noise at the inputs X. When `grad` is not
  /// null it receives d LML / d theta for theta = [log lengthscales (d), log outputscale,
  /// log noise, mean] (length d + 3). `scratch`, when not null, is this backend's
  /// likelihood_scratch(), reused from one call to the next. Throws NumericalError if no jitter
  /// rescues the Cholesky.
  virtual double log_marginal_likelihood(KernelType kernel, const GpHyperparameters& h,
                                         const Eigen::MatrixXd& X, const Eigen::VectorXd& y,
                                         Eigen::VectorXd* grad,
                                         LikelihoodScratch* scratch) const = 0;
  /// The same without a scratch (one evaluation's own buffers).
  double log_marginal_likelihood(KernelType kernel, const GpHyperparameters& h,
                                 const Eigen::MatrixXd& X, const Eigen::VectorXd& y,
                                 Eigen::VectorXd* grad) const {
    return log_marginal_likelihood(kernel, h, X, y, grad, nullptr);
  }

  /// Factorizes the posterior for prediction. Throws NumericalError as above.
  virtual std::unique_ptr<PosteriorFactor> factor(KernelType kernel, const GpHyperparameters& h,
                                                  const Eigen::MatrixXd& X,
                                                  const Eigen::VectorXd& y) const = 0;

  /// Lower Cholesky factor of a symmetric positive semi-definite S, with the jitter ladder of
  /// the GP fit (`jitter`, if not null, receives the jitter used). Throws NumericalError.
  virtual Eigen::MatrixXd cholesky(const Eigen::MatrixXd& S, double* jitter = nullptr) const = 0;

  /// Acquisition values (length m) at the rows of Xc and, when `grad` is not null, their
  /// gradients in x (m x d). The default runs predict() then the acquisition functor per row.
  virtual void score(const PosteriorFactor& f, const AcquisitionParams& acq,
                     const Eigen::MatrixXd& Xc, Eigen::VectorXd* values,
                     Eigen::MatrixXd* grad) const;

  /// Indices of the `k` best rows of Xc (m x d) by acquisition value, best first, ties in row
  /// order (a stable sort), and their values in `values` (length min(k, m)) when not null. The
  /// default scores in chunks with score() and sorts on the host; for an acquisition that grows
  /// with the variance (LogEI, EI, UCB) on a large factor it first bounds every row's value
  /// (PosteriorFactor::predict_bound) and scores rows in the order of their bounds until no
  /// bound left can reach the k-th value: the same answer, fewer O(n^2) variances. The CUDA
  /// backend scores and sorts on the device and copies back only the k winners.
  virtual std::vector<Eigen::Index> top_k(const PosteriorFactor& f, const AcquisitionParams& acq,
                                          const Eigen::MatrixXd& Xc, int k,
                                          Eigen::VectorXd* values) const;
};

/// The backend for a device (resolving `auto`), scoring candidates in `scoring` precision
/// where the device supports it (CUDA; the CPU always scores in double). Throws
/// BackendUnavailable.
std::unique_ptr<Backend> make_backend(const Device& device,
                                      ScorePrecision scoring = ScorePrecision::kDouble);

/// The CPU backend, always available.
std::unique_ptr<Backend> make_cpu_backend();

}  // namespace gpbo
