#pragma once
// Outlier detection for a fitted GP: which observations the model finds implausible, so that
// the engine can leave them out of the fit (as if their noise were infinite) without deleting
// them. A cheap stand-in for relevance pursuit's per-point noise variances (Ament et al. 2024,
// "Robust Gaussian Processes via Relevance Pursuit"): removing point i changes the log marginal
// likelihood by -log N(y_i; mu_-i, s2_-i), the leave-one-out predictive density, so the points
// that gain the most are those with the largest leave-one-out residuals.

#include <Eigen/Core>
#include <vector>

#include "gpbo/gp.hpp"

namespace gpbo {

/// When a leave-one-out residual counts as an outlier.
struct OutlierRule {
  /// Chance that a clean data set of Gaussian residuals has any point flagged: each residual
  /// is compared with the two-sided Bonferroni bound Phi^-1(1 - familywise / (2 n)) (3.9 at
  /// n = 100, 4.4 at n = 1,000).
  double familywise = 0.01;
  /// At most this share of the points is flagged: beyond it the "outliers" are the data.
  double max_fraction = 0.2;
  /// A flagged point is also this many robust standard deviations (1.4826 MAD; the mean absolute
  /// deviation from the median when the MAD is 0) of the observed values away from its
  /// leave-one-out mean: a model that is merely too sure of itself near a
  /// sharp feature has large standardized residuals on good data, but small gaps.
  double min_gap = 2.0;
};

/// Standardized leave-one-out residuals (y_i - mu_-i) / s_-i of the GP `gp` (fitted, or
/// conditioned) on its training data X, y (the units of y as given to the fit), with the
/// GP's hyperparameters held fixed: from one inverse of the covariance, mu_-i and s2_-i in
/// closed form (Rasmussen and Williams 2006, eq. 5.12). O(n^3) on the CPU. Throws
/// NumericalError if the covariance is not positive definite.
Eigen::VectorXd loo_residuals(const GaussianProcess& gp, const Eigen::MatrixXd& X,
                              const Eigen::VectorXd& y);

/// The rows of X, y the GP finds implausible, ascending: greedily, the point with the largest
/// |leave-one-out residual| is flagged while it exceeds the rule's bound (and its gap the rule's
/// min_gap), and the others' residuals are recomputed without it (a rank-one downdate of the
/// inverse, O(n^2) a point). Clean data costs one Cholesky and one triangular inverse.
/// Empty when nothing exceeds the bound or the covariance cannot be inverted.
std::vector<Eigen::Index> find_outliers(const GaussianProcess& gp, const Eigen::MatrixXd& X,
                                        const Eigen::VectorXd& y, const OutlierRule& rule = {});

}  // namespace gpbo
