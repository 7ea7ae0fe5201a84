#pragma once
// LogEHVI: the log of the exact expected hypervolume improvement of one outcome with independent
// normal marginals Y_j ~ N(mu_j, sigma_j^2) (all objectives maximized), over the boxes of the
// non-dominated region (pareto.hpp). Per box and objective, with h(z) = phi(z) + z Phi(z),
// E[(min(Y, u) - l)^+] = sigma (h((mu - l)/sigma) - h((mu - u)/sigma)) (Yang et al. 2019,
// "Efficient computation of expected hypervolume improvement using box decomposition
// algorithms"), evaluated in log space as in Ament et al. 2023 so the value stays finite far
// into the tail.

#include <Eigen/Core>
#include <vector>

#include "acquisition/pareto.hpp"

namespace gpbo {

/// Smallest standard deviation log EHVI uses; a smaller (or NaN) sigma_j is raised to it and its
/// gradient is zero.
constexpr double kMinEhviSigma = 1e-12;

/// log EHVI over a fixed set of boxes, indexed once so that evaluations are cheap. Each
/// evaluation costs one log h per distinct breakpoint of each axis (the distinct finite lower and
/// upper coordinates, B in all), one log1mexp per distinct (lower, upper) interval of each axis
/// (P), and K m additions plus K exps for the log-sum-exp over the K boxes. value() and values()
/// are const and thread-safe.
class LogEhvi {
 public:
  /// `boxes` (K x m, K, m >= 1): finite lower corners; upper corners may be +infinity. Boxes
  /// that are empty in some coordinate (upper <= lower) contribute nothing and are dropped.
  /// Throws InvalidArgument on mismatched shapes, a non-finite lower or NaN upper entry, or when
  /// no box is left.
  explicit LogEhvi(const BoxDecomposition& boxes);

  /// log EHVI at marginal means `mu` and standard deviations `sigma` (both of size m), finite
  /// for every finite input. When not null, `dmu` and `dsigma` receive its gradient (size m).
  /// Throws InvalidArgument on a size mismatch.
  double value(const Eigen::VectorXd& mu, const Eigen::VectorXd& sigma,
               Eigen::VectorXd* dmu = nullptr, Eigen::VectorXd* dsigma = nullptr) const;

  /// value() for every row of `mu` and `sigma` (both n x m), reusing one workspace.
  Eigen::VectorXd values(const Eigen::MatrixXd& mu, const Eigen::MatrixXd& sigma) const;

  Eigen::Index objectives() const { return m_; }
  /// K: the boxes kept.
  Eigen::Index boxes() const { return static_cast<Eigen::Index>(box_interval_.size()) / m_; }
  /// B: distinct breakpoints, summed over the axes.
  Eigen::Index breakpoints() const { return static_cast<Eigen::Index>(breaks_.size()); }
  /// P: distinct (lower, upper) intervals, summed over the axes.
  Eigen::Index intervals() const { return static_cast<Eigen::Index>(interval_lo_.size()); }

 private:
  struct Workspace;
  double evaluate(const double* mu, const double* sigma, Workspace& ws, double* dmu,
                  double* dsigma) const;

  Eigen::Index m_;
  std::vector<double> breaks_;       // per axis ascending, axes one after another
  std::vector<int> break_begin_;     // axis j: breaks_[break_begin_[j], break_begin_[j+1])
  std::vector<int> interval_lo_;     // index into breaks_
  std::vector<int> interval_up_;     // index into breaks_, or -1 for +infinity
  std::vector<int> interval_begin_;  // axis j: intervals [interval_begin_[j], ...[j+1])
  std::vector<int> box_interval_;    // K x m row-major: box b's interval on axis j
};

/// log EHVI of `boxes` at (mu, sigma); see LogEhvi (this convenience indexes the boxes anew on
/// every call: build a LogEhvi to score many candidates).
double log_ehvi(const BoxDecomposition& boxes, const Eigen::VectorXd& mu,
                const Eigen::VectorXd& sigma, Eigen::VectorXd* dmu = nullptr,
                Eigen::VectorXd* dsigma = nullptr);

}  // namespace gpbo
