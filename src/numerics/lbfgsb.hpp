#pragma once
// Bound-constrained minimization with LBFGS++'s L-BFGS-B, made robust for our objectives: the
// best point ever evaluated is returned even when a line search gives up (LBFGS++ throws).

#include <Eigen/Core>
#include <functional>

namespace gpbo {

/// f(x, grad) -> value; must fill grad (same length as x). May return +inf where undefined.
using BoxObjective = std::function<double(const Eigen::VectorXd& x, Eigen::VectorXd& grad)>;

struct BoxOptions {
  int max_iterations = 100;
  /// Stop when the projected gradient norm falls below this.
  double epsilon = 1e-6;
  /// Stop when the value improves by less than this (relative) in one iteration.
  double delta = 1e-9;
};

struct BoxResult {
  Eigen::VectorXd x;
  double value;
  int evaluations;
};

/// Minimizes f over the box [lb, ub] from x0 (projected into the box first).
BoxResult minimize_in_box(const BoxObjective& f, const Eigen::VectorXd& x0,
                          const Eigen::VectorXd& lb, const Eigen::VectorXd& ub,
                          const BoxOptions& options = {});

}  // namespace gpbo
