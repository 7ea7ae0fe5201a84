#pragma once
// The observations a large GP's hyperparameters are fitted on. Above GpOptions::subset_above
// observations one likelihood evaluation costs O(n^3) (3.4 s at n = 5,000 on one CPU core),
// and a fit evaluates it dozens of times; hyperparameters fitted on a well-chosen subset of m
// points are close to the full fit's (they describe smoothness and scale, which a fair sample
// shows nearly as well as the whole set), and the whole data is then factored once with them.

#include <Eigen/Core>
#include <cstdint>
#include <vector>

namespace gpbo {

/// Rows to fit on (of n = y.size()), sorted ascending: the best quarter of m by y (largest
/// first: the model maximizes, and the region near the incumbent matters most), then a uniform
/// random sample of the rest, deterministic for `seed`. A random sample keeps the data's mix of
/// near and far pairs, which is what the lengthscales are fitted from; a max-min distance
/// (space-filling) sample drops the near pairs, and fitted worse held-out likelihoods on
/// Levy-10 (bench/subset_fit_bench.cpp). All rows when m >= n.
std::vector<Eigen::Index> select_fit_subset(const Eigen::VectorXd& y, Eigen::Index m,
                                            std::uint64_t seed);

}  // namespace gpbo
