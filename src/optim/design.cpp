#include "optim/design.hpp"

#include <algorithm>

namespace gpbo {

Eigen::MatrixXd sample_space(const Space& space, SobolSampler& sobol, int n) {
  Eigen::MatrixXd X = sobol.draw(n);
  for (Eigen::Index i = 0; i < X.rows(); ++i) {
    for (std::size_t p = 0; p < space.size(); ++p) {
      const ParamSpec& spec = space.params()[p];
      if (spec.type != ParamType::kCategorical) continue;
      const int off = space.offset(p), k = static_cast<int>(spec.choices.size());
      const int c = std::min(k - 1, static_cast<int>(X(i, off) * k));
      X.row(i).segment(off, k).setZero();
      X(i, off + c) = 1.0;
    }
    Eigen::VectorXd u = X.row(i).transpose();
    space.snap(u);
    X.row(i) = u.transpose();
  }
  return X;
}

}  // namespace gpbo
