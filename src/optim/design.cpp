#include "optim/design.hpp"

#include <algorithm>

namespace gpbo {

namespace {

// A categorical's choice from its first one-hot coordinate.
void stratify_categoricals(const Space& space,
                           Eigen::Ref<Eigen::RowVectorXd, 0, Eigen::InnerStride<>> x) {
  for (std::size_t p = 0; p < space.size(); ++p) {
    const ParamSpec& spec = space.params()[p];
    if (spec.type != ParamType::kCategorical) continue;
    const int off = space.offset(p), k = static_cast<int>(spec.choices.size());
    const int c = std::min(k - 1, static_cast<int>(x(off) * k));
    x.segment(off, k).setZero();
    x(off + c) = 1.0;
  }
}

}  // namespace

Eigen::MatrixXd sample_space(const Space& space, SobolSampler& sobol, int n) {
  if (space.constraints().empty()) {
    Eigen::MatrixXd X = sobol.draw(n);
    for (Eigen::Index i = 0; i < X.rows(); ++i) {
      stratify_categoricals(space, X.row(i));
      Eigen::VectorXd u = X.row(i).transpose();
      space.snap(u);
      X.row(i) = u.transpose();
    }
    return X;
  }
  // Rejection: the Sobol points inside the constraints keep their spread over the feasible set.
  Eigen::MatrixXd X(n, space.encoded_dim());
  for (int i = 0; i < n; ++i) {
    Eigen::VectorXd u;
    for (int attempt = 0; attempt < kRejectionTries; ++attempt) {
      Eigen::RowVectorXd x = sobol.draw(1).row(0);
      stratify_categoricals(space, x);
      u = x.transpose();
      space.snap_unconstrained(u);
      if (space.admits(u)) break;
    }
    space.snap(u);  // pulls the last draw inside when every draw fell outside
    X.row(i) = u.transpose();
  }
  return X;
}

}  // namespace gpbo
