#include "optim/trust_region.hpp"

#include <algorithm>
#include <cmath>

#include "numerics/sobol.hpp"

namespace gpbo {

int default_failure_tolerance(int d, int q) {
  const double qd = std::max(q, 1);
  return static_cast<int>(std::ceil(std::max(4.0 / qd, static_cast<double>(d) / qd)));
}

bool trust_region_count(TrustRegionState* s, bool success, int failure_tolerance,
                        const TrustRegionOptions& o) {
  if (success) {
    ++s->success_count;
    s->failure_count = 0;
  } else {
    s->success_count = 0;
    ++s->failure_count;
  }
  if (s->success_count >= o.success_tolerance) {
    s->length = std::min(2.0 * s->length, o.length_max);
    s->success_count = 0;
  } else if (s->failure_count >= std::max(failure_tolerance, 1)) {
    s->length /= 2.0;
    s->failure_count = 0;
  }
  return s->length < o.length_min;
}

Eigen::MatrixXd trust_region_bounds(const Space& space, const Eigen::VectorXd& center,
                                    const Eigen::VectorXd& lengthscales, double length) {
  const Eigen::Index D = center.size();
  // Weights with geometric mean one: the region's volume is L^D whatever the lengthscales.
  const Eigen::VectorXd log_ls = lengthscales.array().max(1e-12).log();
  const Eigen::VectorXd w = (log_ls.array() - log_ls.mean()).exp();
  Eigen::MatrixXd box(2, D);
  box.row(0).setZero();
  box.row(1).setOnes();
  for (std::size_t p = 0; p < space.size(); ++p) {
    const ParamSpec& spec = space.params()[p];
    if (spec.type == ParamType::kCategorical) continue;
    const int j = space.offset(p);
    double half = 0.5 * length * w(j);
    if (spec.type == ParamType::kInt) {
      const double values = static_cast<double>(spec.high) - static_cast<double>(spec.low) + 1.0;
      half = std::max(half, 1.0 / values);
    }
    box(0, j) = std::max(0.0, center(j) - half);
    box(1, j) = std::min(1.0, center(j) + half);
  }
  return box;
}

bool in_box(const Eigen::MatrixXd& box, const Eigen::VectorXd& u) {
  constexpr double kTol = 1e-12;
  return ((u.transpose() - box.row(0)).array() >= -kTol).all() &&
         ((box.row(1) - u.transpose()).array() >= -kTol).all();
}

Eigen::MatrixXd trust_region_candidates(const Space& space, const Eigen::VectorXd& center,
                                        const Eigen::MatrixXd& box, int n, std::mt19937_64& rng) {
  const int D = space.encoded_dim();
  const int P = static_cast<int>(space.size());
  SobolSampler sobol(D, rng());
  const Eigen::MatrixXd S = sobol.draw(n);
  const double p_move = std::min(1.0, 20.0 / P);
  std::uniform_real_distribution<double> unif;
  Eigen::MatrixXd X(n, D);
  std::vector<char> move(static_cast<std::size_t>(P));
  // With linear constraints, a candidate outside them goes back toward the centre (inside the
  // box) when the centre meets them with the fixed values set, else toward the space's own
  // admitted point (Space::snap).
  Eigen::VectorXd home = center;
  space.snap_unconstrained(home);
  const bool pull_home = !space.constraints().empty() && space.admits(home);
  for (int i = 0; i < n; ++i) {
    bool any = false;
    for (int p = 0; p < P; ++p) {
      move[static_cast<std::size_t>(p)] = unif(rng) < p_move;
      any = any || move[static_cast<std::size_t>(p)];
    }
    if (!any) move[static_cast<std::size_t>(rng() % static_cast<std::uint64_t>(P))] = 1;
    Eigen::VectorXd x = center;
    for (int p = 0; p < P; ++p) {
      if (!move[static_cast<std::size_t>(p)]) continue;
      const ParamSpec& spec = space.params()[static_cast<std::size_t>(p)];
      const int off = space.offset(static_cast<std::size_t>(p));
      if (spec.type == ParamType::kCategorical) {
        const int k = static_cast<int>(spec.choices.size());
        x.segment(off, k).setZero();
        x(off + static_cast<int>(rng() % static_cast<std::uint64_t>(k))) = 1.0;
      } else {
        x(off) = box(0, off) + (box(1, off) - box(0, off)) * S(i, off);
      }
    }
    if (pull_home) {
      space.snap_unconstrained(x);
      space.pull_toward(x, home);
    } else {
      space.snap(x);
    }
    X.row(i) = x.transpose();
  }
  return X;
}

}  // namespace gpbo
