// The lifecycle of a Study's trust regions (TuRBO-1 and TuRBO-m, Eriksson et al. 2019): created
// around the best trials at the first model-based ask, then grown, shrunk and restarted as
// batches succeed or fail. With outcome constraints (one region), SCBO's rule (Eriksson and
// Poloczek 2021): a region's best is its best feasible trial, or while it has none, its trial
// of smallest total violation; a feasible result after infeasible ones is a success. The
// geometry is optim/trust_region.hpp's.
#include <algorithm>
#include <cmath>
#include <optional>
#include <vector>

#include "gpbo/error.hpp"
#include "gpbo/study.hpp"
#include "numerics/sobol.hpp"
#include "optim/design.hpp"
#include "optim/trust_region.hpp"

namespace gpbo {

bool Study::region_better(const Trial& a, const Trial& b) const {
  const bool maximize = options_.direction == Direction::kMaximize;
  if (!options_.metrics.constraints.empty()) {
    const double va = violation(options_.metrics, a.values);
    const double vb = violation(options_.metrics, b.values);
    if (va > 0.0 || vb > 0.0) return va < vb;
  }
  return maximize ? *a.value > *b.value : *a.value < *b.value;
}

void Study::set_region_best(TrustRegionState* s, const Trial& t) const {
  const double v =
      options_.metrics.constraints.empty() ? 0.0 : violation(options_.metrics, t.values);
  if (v > 0.0) {
    s->best_value.reset();
    s->best_violation = v;
  } else {
    s->best_value = t.value;
    s->best_violation.reset();
  }
}

void Study::update_trust_regions(int q) {
  const TrustRegionOptions& o = options_.trust_region;
  std::int64_t n_complete = 0;
  for (const Trial& t : trials_) n_complete += t.state == TrialState::kComplete;
  if (regions_.empty()) {
    create_trust_regions(n_complete);
    return;
  }
  // Each region expects its share of the batch.
  const int q_region = std::max(1, q / static_cast<int>(regions_.size()));
  const int failure_tolerance =
      o.failure_tolerance > 0
          ? o.failure_tolerance
          : default_failure_tolerance(static_cast<int>(space_.size()), q_region);
  for (std::size_t r = 0; r < regions_.size(); ++r)
    update_trust_region(r, failure_tolerance, n_complete);
}

namespace {

/// The unweighted box of side `length` around `center`, clipped to the unit cube.
Eigen::MatrixXd cube_box(const Eigen::VectorXd& center, double length) {
  Eigen::MatrixXd box(2, center.size());
  box.row(0) = (center.array() - 0.5 * length).max(0.0).transpose();
  box.row(1) = (center.array() + 0.5 * length).min(1.0).transpose();
  return box;
}

}  // namespace

void Study::create_trust_regions(std::int64_t n_complete) {
  const TrustRegionOptions& o = options_.trust_region;
  const int m = o.n_regions;
  // The first region: centred on the incumbent of the initial design.
  const Trial* inc = nullptr;
  for (const Trial& t : trials_) {
    if (t.state == TrialState::kComplete && (!inc || region_better(t, *inc))) inc = &t;
  }
  if (!inc) throw InvalidArgument("trust region: no complete trial to centre it on");
  TrustRegionState first;
  first.length = o.length_init;
  first.center = encoded_[static_cast<std::size_t>(inc->id)];
  set_region_best(&first, *inc);
  first.region_start = static_cast<std::int64_t>(trials_.size());
  // One region counts every complete trial; several count their own suggestions.
  first.n_seen = m == 1 ? n_complete : 0;
  regions_.assign(1, first);
  if (m > 1) {
    // The others around the best complete trials outside every earlier region, best first; a
    // scrambled Sobol point outside them when no trial is left.
    const bool maximize = options_.direction == Direction::kMaximize;
    std::vector<std::size_t> order;
    for (std::size_t i = 0; i < trials_.size(); ++i) {
      if (trials_[i].state == TrialState::kComplete) order.push_back(i);
    }
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return maximize ? *trials_[a].value > *trials_[b].value
                      : *trials_[a].value < *trials_[b].value;
    });
    std::vector<Eigen::MatrixXd> boxes = {cube_box(first.center, o.length_init)};
    const auto outside_all = [&](const Eigen::VectorXd& u) {
      for (const Eigen::MatrixXd& b : boxes)
        if (in_box(b, u)) return false;
      return true;
    };
    SobolSampler sobol(space_.encoded_dim(), rng_());
    std::size_t next = 0;
    while (static_cast<int>(regions_.size()) < m) {
      TrustRegionState s = first;
      s.best_value.reset();
      s.best_violation.reset();
      while (next < order.size() && !outside_all(encoded_[order[next]])) ++next;
      if (next < order.size()) {
        s.center = encoded_[order[next]];
        s.best_value = trials_[order[next]].value;
        ++next;
      } else {
        for (int attempt = 0; attempt < 64; ++attempt) {
          s.center = sample_space(space_, sobol, 1).row(0).transpose();
          if (outside_all(s.center)) break;
        }
      }
      boxes.push_back(cube_box(s.center, o.length_init));
      regions_.push_back(std::move(s));
    }
  }
  tr_boxes_.assign(regions_.size(), Eigen::MatrixXd());
}

void Study::update_trust_region(std::size_t r, int failure_tolerance, std::int64_t n_complete) {
  const TrustRegionOptions& o = options_.trust_region;
  const bool maximize = options_.direction == Direction::kMaximize;
  const auto better = [&](double a, double b) { return maximize ? a > b : a < b; };
  TrustRegionState& s = regions_[r];
  const Trial* region_best = nullptr;
  const auto consider = [&](const Trial& t) {
    if (t.state == TrialState::kComplete && (!region_best || region_better(t, *region_best)))
      region_best = &t;
  };
  if (regions_.size() == 1) {
    // One region owns every trial from its start on.
    if (n_complete <= s.n_seen) return;  // nothing new was told since the last ask
    s.n_seen = n_complete;
    for (std::size_t i = static_cast<std::size_t>(std::max<std::int64_t>(s.region_start, 0));
         i < trials_.size(); ++i)
      consider(trials_[i]);
  } else {
    // Several regions: each counts only the trials it suggested; one that got no new result
    // since the last ask is left as it is.
    std::int64_t done = 0;
    for (std::int64_t id : s.members) {
      if (id < static_cast<std::int64_t>(trials_.size())) {
        const Trial& t = trials_[static_cast<std::size_t>(id)];
        done += t.state == TrialState::kComplete;
        consider(t);
      }
    }
    if (done <= s.n_seen) return;
    s.n_seen = done;
  }
  if (!s.best_value && !s.best_violation) {
    // The first results of a restarted region set its reference; they count as neither.
    if (region_best) {
      set_region_best(&s, *region_best);
      s.center = encoded_[static_cast<std::size_t>(region_best->id)];
    }
    return;
  }
  bool success = false, improved = false;
  const double v = !region_best || options_.metrics.constraints.empty()
                       ? 0.0
                       : violation(options_.metrics, region_best->values);
  if (region_best && s.best_violation) {
    // No feasible trial in the region yet: a feasible one, or a violation smaller by the
    // margin, is a success.
    const double best = *s.best_violation;
    success = v < best - o.success_margin * best;
    improved = v < best;
  } else if (region_best && v == 0.0) {
    const double best = *s.best_value;
    const double margin = o.success_margin * std::abs(best);
    success = better(*region_best->value, maximize ? best + margin : best - margin);
    improved = better(*region_best->value, best);
  }
  if (improved) {
    set_region_best(&s, *region_best);
    s.center = encoded_[static_cast<std::size_t>(region_best->id)];
  }
  if (!trust_region_count(&s, success, failure_tolerance, o)) return;

  // Collapse. TuRBO-1 throws its data away and starts a fresh design; here every trial stays in
  // the model (it cost an evaluation), and only the region moves: to a scrambled Sobol point
  // outside the collapsed box, at the initial length, with a fresh reference value.
  Eigen::MatrixXd old_box = tr_boxes_[r];
  if (old_box.rows() != 2) old_box = cube_box(s.center, s.length);
  SobolSampler sobol(space_.encoded_dim(), rng_());
  Eigen::VectorXd center = s.center;
  for (int attempt = 0; attempt < 64; ++attempt) {
    center = sample_space(space_, sobol, 1).row(0).transpose();
    if (!in_box(old_box, center)) break;
  }
  s.center = center;
  s.length = o.length_init;
  s.success_count = s.failure_count = 0;
  s.best_value.reset();
  s.best_violation.reset();
  s.region_start = static_cast<std::int64_t>(trials_.size());
  s.members.clear();
  if (regions_.size() > 1) s.n_seen = 0;
  ++s.restarts;
  tr_boxes_[r].resize(0, 0);
}

}  // namespace gpbo
