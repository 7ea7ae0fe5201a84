#include "model/fit_subset.hpp"

#include <algorithm>
#include <numeric>
#include <random>

namespace gpbo {

std::vector<Eigen::Index> select_fit_subset(const Eigen::VectorXd& y, Eigen::Index m,
                                            std::uint64_t seed) {
  const Eigen::Index n = y.size();
  std::vector<Eigen::Index> rows(static_cast<std::size_t>(n));
  std::iota(rows.begin(), rows.end(), Eigen::Index{0});
  if (m >= n) return rows;
  m = std::max<Eigen::Index>(m, 1);

  // The best quarter by y (stable: equal values keep row order), then a uniform sample of the
  // rest: a partial Fisher-Yates shuffle with a generator of our own seeding, so the subset is
  // the same on every platform for a seed.
  const Eigen::Index n_best = std::max<Eigen::Index>(1, m / 4);
  std::stable_sort(rows.begin(), rows.end(),
                   [&](Eigen::Index a, Eigen::Index b) { return y(a) > y(b); });
  std::mt19937_64 rng(seed);
  for (Eigen::Index k = n_best; k < m; ++k) {
    const std::uint64_t span = static_cast<std::uint64_t>(n - k);
    const auto j = k + static_cast<Eigen::Index>(rng() % span);
    std::swap(rows[static_cast<std::size_t>(k)], rows[static_cast<std::size_t>(j)]);
  }
  rows.resize(static_cast<std::size_t>(m));
  std::sort(rows.begin(), rows.end());
  return rows;
}

}  // namespace gpbo
