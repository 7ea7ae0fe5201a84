#include "optim/acquisition_optimizer.hpp"

#include <algorithm>
#include <functional>
#include <numeric>
#include <vector>

#include "backend/backend.hpp"
#include "numerics/lbfgsb.hpp"
#include "numerics/sobol.hpp"
#include "optim/design.hpp"

namespace gpbo {
namespace {

/// Raw candidates: Sobol points, plus Gaussian perturbations of the anchors at two scales. In
/// more than 20 dimensions only a random subset of ~20 coordinates moves (as TuRBO does), so
/// the perturbations stay local in every direction that matters.
}  // namespace

Eigen::MatrixXd candidate_set(const Space& space, const Eigen::MatrixXd& anchors,
                              const AcquisitionOptimizerOptions& o, std::mt19937_64& rng) {
  const int D = space.encoded_dim();
  SobolSampler sobol(D, rng());
  const int n_anchor = std::min<int>(o.anchors, static_cast<int>(anchors.rows()));
  const int n_pert = n_anchor * o.perturbations_per_anchor;
  Eigen::MatrixXd X(o.raw_samples + n_pert, D);
  X.topRows(o.raw_samples) = sample_space(space, sobol, o.raw_samples);
  std::normal_distribution<double> normal;
  std::uniform_real_distribution<double> unif;
  const double p_move = std::min(1.0, 20.0 / D);
  for (int a = 0; a < n_anchor; ++a) {
    for (int k = 0; k < o.perturbations_per_anchor; ++k) {
      const double sigma = k % 2 == 0 ? 0.1 : 0.01;
      Eigen::RowVectorXd x = anchors.row(a);
      bool moved = false;
      for (int j = 0; j < D; ++j) {
        if (unif(rng) < p_move) {
          x(j) += sigma * normal(rng);
          moved = true;
        }
      }
      if (!moved) {
        const int j = static_cast<int>(rng() % D);
        x(j) += sigma * normal(rng);
      }
      // A categorical moves as a unit: a continuous nudge of its one-hot block almost never
      // changes the argmax, so half the time it is redrawn instead.
      for (std::size_t p = 0; p < space.size(); ++p) {
        const ParamSpec& spec = space.params()[p];
        if (spec.type != ParamType::kCategorical || unif(rng) >= 0.5 * p_move) continue;
        const int off = space.offset(p), kc = static_cast<int>(spec.choices.size());
        x.segment(off, kc).setZero();
        x(off + static_cast<int>(rng() % static_cast<std::uint64_t>(kc))) = 1.0;
      }
      X.row(o.raw_samples + a * o.perturbations_per_anchor + k) = x.cwiseMax(0.0).cwiseMin(1.0);
    }
  }
  for (Eigen::Index i = o.raw_samples; i < X.rows(); ++i) {
    Eigen::VectorXd u = X.row(i).transpose();
    space.snap_unconstrained(u);
    if (!space.constraints().empty() && !space.admits(u)) {
      // A perturbation that left the constraints goes back toward its anchor when the anchor
      // meets them (with the fixed values set), else toward the space's admitted point.
      Eigen::VectorXd home = anchors.row((i - o.raw_samples) / o.perturbations_per_anchor);
      space.snap_unconstrained(home);
      if (space.admits(home)) {
        space.pull_toward(u, home);
      } else {
        space.snap(u);
      }
    }
    X.row(i) = u.transpose();
  }
  return X;
}

AcquisitionCandidates optimize_acquisition(const Backend& backend, const PosteriorFactor& factor,
                                           const AcquisitionParams& acq, const Space& space,
                                           const Eigen::MatrixXd& anchors,
                                           const AcquisitionOptimizerOptions& options,
                                           std::mt19937_64& rng) {
  return optimize_acquisition_in_box(backend, factor, acq, space,
                                     candidate_set(space, anchors, options, rng),
                                     unit_box(space.encoded_dim()), options);
}

namespace {

/// Ranks raw candidates: the indices of the k best rows, best first, and their values.
using RankFunction =
    std::function<std::vector<Eigen::Index>(const Eigen::MatrixXd&, int, Eigen::VectorXd*)>;

/// The search of optimize_acquisition_in_box over any acquisition: `rank` orders the raw
/// candidates, `score` gives values and gradients for the refinement.
AcquisitionCandidates refine_best(const RankFunction& rank, const AcquisitionFunction& score,
                                  const Space& space, const Eigen::MatrixXd& raw,
                                  const Eigen::MatrixXd& box,
                                  const AcquisitionOptimizerOptions& options) {
  const int D = space.encoded_dim();
  // Only the best raw candidates matter: the R starts of the refinement and the fallbacks. The
  // backend scores and ranks all of them where they live (on a GPU only the winners come back).
  const int R = std::min<int>(options.restarts, static_cast<int>(raw.rows()));
  const int n_fallback = std::min<int>(static_cast<int>(raw.rows()), 4 * R + 16);
  Eigen::VectorXd top_values;
  const std::vector<Eigen::Index> order = rank(raw, std::max(R, n_fallback), &top_values);

  // Discrete and fixed dimensions stay where the raw candidate put them.
  std::vector<bool> discrete = space.discrete_mask();
  const std::vector<bool>& fixed = space.fixed_mask();
  for (std::size_t j = 0; j < fixed.size(); ++j) discrete[j] = discrete[j] || fixed[j];
  Eigen::MatrixXd refined(R, D);
  for (int r = 0; r < R; ++r) refined.row(r) = raw.row(order[r]);

  if (!space.all_discrete() && R > 0 && options.refine_iterations > 0) {
    // One L-BFGS-B problem over all restarts: their objectives are independent, so the summed
    // gradient separates and each call scores R points at once.
    Eigen::VectorXd lb(R * D), ub(R * D), x0(R * D);
    for (int r = 0; r < R; ++r) {
      // The dimensions of inactive parameters stay at their fixed value, like discrete ones
      // (parents are discrete, so the refinement never changes which parameters are active).
      const std::vector<bool> active = space.active_dims(refined.row(r).transpose());
      for (int j = 0; j < D; ++j) {
        const bool fixed = discrete[j] || !active[j];
        // Raw candidates lie in the box; the clamp only guards L-BFGS-B against rounding.
        const double v = fixed ? refined(r, j) : std::clamp(refined(r, j), box(0, j), box(1, j));
        x0(r * D + j) = v;
        lb(r * D + j) = fixed ? v : box(0, j);
        ub(r * D + j) = fixed ? v : box(1, j);
      }
    }
    Eigen::MatrixXd Xr(R, D), G;
    Eigen::VectorXd vals;
    const BoxObjective objective = [&](const Eigen::VectorXd& x, Eigen::VectorXd& g) {
      for (int r = 0; r < R; ++r) Xr.row(r) = x.segment(r * D, D).transpose();
      score(Xr, &vals, &G);
      for (int r = 0; r < R; ++r) g.segment(r * D, D) = -G.row(r).transpose();
      return -vals.sum();
    };
    BoxOptions box;
    box.max_iterations = options.refine_iterations;
    box.epsilon = 1e-7;
    box.delta = 1e-10;
    const BoxResult res = minimize_in_box(objective, x0, lb, ub, box);
    for (int r = 0; r < R; ++r) refined.row(r) = res.x.segment(r * D, D).transpose();
    // L-BFGS-B keeps the box, not the linear constraints: a refined point that left them goes
    // back along its path to the last admitted point (its start is one).
    if (!space.constraints().empty()) {
      for (int r = 0; r < R; ++r) {
        Eigen::VectorXd u = refined.row(r).transpose();
        space.pull_toward(u, raw.row(order[r]).transpose());
        refined.row(r) = u.transpose();
      }
    }
  }

  // Refined points (rescored) and the best raw candidates, as one list sorted by value: the
  // raw ones are fallbacks when the top candidates are already trials, and in mixed spaces a
  // raw point in another discrete cell can beat a refined one.
  Eigen::VectorXd refined_values(R);
  if (R > 0) score(refined, &refined_values, nullptr);
  Eigen::MatrixXd X(R + n_fallback, D);
  Eigen::VectorXd values(R + n_fallback);
  X.topRows(R) = refined;
  values.head(R) = refined_values;
  for (int k = 0; k < n_fallback; ++k) {
    X.row(R + k) = raw.row(order[k]);
    values(R + k) = top_values(k);
  }
  std::vector<Eigen::Index> merged(X.rows());
  std::iota(merged.begin(), merged.end(), 0);
  std::stable_sort(merged.begin(), merged.end(),
                   [&](Eigen::Index a, Eigen::Index b) { return values(a) > values(b); });
  AcquisitionCandidates out;
  out.X.resize(X.rows(), D);
  out.values.resize(X.rows());
  for (Eigen::Index i = 0; i < X.rows(); ++i) {
    out.X.row(i) = X.row(merged[i]);
    out.values(i) = values(merged[i]);
  }
  return out;
}

}  // namespace

AcquisitionCandidates optimize_acquisition_in_box(const Backend& backend,
                                                  const PosteriorFactor& factor,
                                                  const AcquisitionParams& acq, const Space& space,
                                                  const Eigen::MatrixXd& raw,
                                                  const Eigen::MatrixXd& box,
                                                  const AcquisitionOptimizerOptions& options) {
  return refine_best(
      [&](const Eigen::MatrixXd& X, int k, Eigen::VectorXd* values) {
        return backend.top_k(factor, acq, X, k, values);
      },
      [&](const Eigen::MatrixXd& X, Eigen::VectorXd* values, Eigen::MatrixXd* grad) {
        backend.score(factor, acq, X, values, grad);
      },
      space, raw, box, options);
}

AcquisitionCandidates optimize_function_in_box(const AcquisitionFunction& f, const Space& space,
                                               const Eigen::MatrixXd& raw,
                                               const Eigen::MatrixXd& box,
                                               const AcquisitionOptimizerOptions& options) {
  const RankFunction rank = [&](const Eigen::MatrixXd& X, int k, Eigen::VectorXd* values) {
    Eigen::VectorXd all;
    f(X, &all, nullptr);
    std::vector<Eigen::Index> order(static_cast<std::size_t>(X.rows()));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](Eigen::Index a, Eigen::Index b) { return all(a) > all(b); });
    order.resize(std::min<std::size_t>(order.size(), static_cast<std::size_t>(k)));
    values->resize(static_cast<Eigen::Index>(order.size()));
    for (std::size_t i = 0; i < order.size(); ++i) {
      (*values)(static_cast<Eigen::Index>(i)) = all(order[i]);
    }
    return order;
  };
  return refine_best(rank, f, space, raw, box, options);
}

Eigen::MatrixXd unit_box(int dim) {
  Eigen::MatrixXd box(2, dim);
  box.row(0).setZero();
  box.row(1).setOnes();
  return box;
}

}  // namespace gpbo
