#include "model/fit_subset.hpp"

#include <algorithm>
#include <limits>
#include <numeric>

namespace gpbo {

std::vector<Eigen::Index> select_fit_subset(const Eigen::MatrixXd& X, const Eigen::VectorXd& y,
                                            Eigen::Index m) {
  const Eigen::Index n = X.rows();
  std::vector<Eigen::Index> rows(static_cast<std::size_t>(n));
  std::iota(rows.begin(), rows.end(), Eigen::Index{0});
  if (m >= n) return rows;
  m = std::max<Eigen::Index>(m, 1);

  // The best quarter by y (stable: equal values keep row order).
  const Eigen::Index n_best = std::max<Eigen::Index>(1, m / 4);
  std::stable_sort(rows.begin(), rows.end(),
                   [&](Eigen::Index a, Eigen::Index b) { return y(a) > y(b); });
  std::vector<Eigen::Index> chosen(rows.begin(), rows.begin() + n_best);

  // Greedy max-min distance over the rest: dist(i) is i's squared distance to the nearest
  // chosen row, updated with each new choice.
  const Eigen::MatrixXd Xt = X.transpose();  // one contiguous column per point
  std::vector<char> taken(static_cast<std::size_t>(n), 0);
  Eigen::VectorXd dist = Eigen::VectorXd::Constant(n, std::numeric_limits<double>::infinity());
  const auto update = [&](Eigen::Index c) {
    taken[static_cast<std::size_t>(c)] = 1;
    for (Eigen::Index i = 0; i < n; ++i) {
      if (!taken[static_cast<std::size_t>(i)]) {
        dist(i) = std::min(dist(i), (Xt.col(i) - Xt.col(c)).squaredNorm());
      }
    }
  };
  for (Eigen::Index c : chosen) update(c);
  while (static_cast<Eigen::Index>(chosen.size()) < m) {
    Eigen::Index far = -1;
    double best = -1.0;
    for (Eigen::Index i = 0; i < n; ++i) {
      if (!taken[static_cast<std::size_t>(i)] && dist(i) > best) {
        best = dist(i);
        far = i;
      }
    }
    chosen.push_back(far);
    update(far);
  }
  std::sort(chosen.begin(), chosen.end());
  return chosen;
}

}  // namespace gpbo
