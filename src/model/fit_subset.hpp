#pragma once
// The observations a large GP's hyperparameters are fitted on. Above GpOptions::subset_above
// observations one likelihood evaluation costs O(n^3) (3.4 s at n = 5,000 on one CPU core),
// and a fit evaluates it dozens of times; hyperparameters fitted on a well-chosen subset of m
// points are close to the full fit's (they describe smoothness and scale, which a space-filling
// sample shows as well as the whole set), and the whole data is then factored once with them.

#include <Eigen/Core>
#include <vector>

namespace gpbo {

/// Rows of X (n x d) to fit on, sorted ascending: the best quarter of m by y (largest first:
/// the model is maximized, and the region near the incumbent matters most), then the remaining
/// rows farthest from those already chosen, one at a time (greedy max-min distance, a
/// space-filling subsample of the rest; ties to the lower row). Deterministic. All rows when
/// m >= n. Cost O(n m d).
std::vector<Eigen::Index> select_fit_subset(const Eigen::MatrixXd& X, const Eigen::VectorXd& y,
                                            Eigen::Index m);

}  // namespace gpbo
