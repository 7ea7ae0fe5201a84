// Study: the trial ledger (ask, tell, enqueue, restore, best) and the order of an ask (queue,
// initial design, model). The model's batch is in batch_selection.cpp, the initial design in
// initial_design.cpp, the trust regions' lifecycle in trust_region_lifecycle.cpp.
#include "gpbo/study.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>

#include "backend/backend.hpp"
#include "common/clock.hpp"
#include "engine/metric_model.hpp"
#include "engine/pruner.hpp"
#include "engine/resident_factor.hpp"
#include "engine/tell.hpp"
#include "gpbo/error.hpp"
#include "gpbo/gp.hpp"
#include "numerics/sobol.hpp"

namespace gpbo {

Study::Study(Space space, StudyOptions options)
    : space_(std::move(space)),
      options_(with_objective_direction(std::move(options))),
      rng_(options_.seed) {
  if (space_.size() == 0) throw InvalidArgument("study: the search space has no parameters");
  check_study_options(options_);
  n_initial_ = options_.n_initial > 0 ? options_.n_initial
                                      : default_initial_design_size(space_.encoded_dim());
  design_ = std::make_unique<SobolSampler>(space_.encoded_dim(), rng_());
  gp_ = std::make_unique<GaussianProcess>(options_.gp, options_.device, options_.score_precision);
  gp_->set_time_input(drift_on());
}

Study::~Study() = default;
Study::Study(Study&&) noexcept = default;
Study& Study::operator=(Study&&) noexcept = default;

Device Study::device() const { return gp_->backend().device(); }

Strategy Study::strategy() const {
  // Several objectives: global; one objective with constraints: trust regions as usual (SCBO).
  if (options_.metrics.multi_objective()) return Strategy::kGlobal;
  if (options_.strategy != Strategy::kAuto) return options_.strategy;
  return static_cast<int>(space_.size()) >= options_.trust_region.auto_min_dim
             ? Strategy::kTrustRegion
             : Strategy::kGlobal;
}

void Study::set_trust_regions(std::vector<TrustRegionState> regions) {
  for (const TrustRegionState& s : regions) {
    if (s.center.size() != space_.encoded_dim()) {
      throw InvalidArgument("trust region: the centre has " + std::to_string(s.center.size()) +
                            " coordinates, the space encodes to " +
                            std::to_string(space_.encoded_dim()));
    }
    if (!(s.length > 0.0) || !std::isfinite(s.length)) {
      throw InvalidArgument("trust region: the length must be positive and finite");
    }
    for (std::int64_t id : s.members) {
      if (id < 0) throw InvalidArgument("trust region: a member trial id is negative");
    }
  }
  regions_ = std::move(regions);
  tr_boxes_.assign(regions_.size(), Eigen::MatrixXd());
}

const Eigen::MatrixXd& Study::trust_region_box(std::size_t r) const {
  static const Eigen::MatrixXd kNone;
  return r < tr_boxes_.size() ? tr_boxes_[r] : kNone;
}

const Trial& Study::ask() { return trials_[static_cast<std::size_t>(ask(1).front().id)]; }

std::vector<Trial> Study::ask(int q) {
  if (q < 1 || q > kMaxAskBatch) {
    throw InvalidArgument("ask: q must be in 1.." + std::to_string(kMaxAskBatch) + ", got " +
                          std::to_string(q));
  }
  const auto start = std::chrono::steady_clock::now();
  last_split_ = {};
  const std::size_t first = trials_.size();
  int remaining = q;
  while (remaining > 0 && !queue_.empty()) {
    Params p = std::move(queue_.front());  // canonical since enqueue()
    queue_.pop_front();
    Eigen::VectorXd u = space_.encode(p);
    push_trial(std::move(p), std::move(u), "enqueued");
    --remaining;
  }
  try {
    while (remaining > 0 && in_initial_design()) {
      push_trial(suggest_initial(), "initial");
      --remaining;
    }
    if (remaining > 0) suggest_from_model(remaining);
  } catch (const Conflict&) {
    if (trials_.size() == first) throw;
    // Fewer free points than asked for: return what there is (the caller sees the count).
  }
  const double now = now_seconds();
  for (std::size_t i = first; i < trials_.size(); ++i) trials_[i].created_at = now;
  ask_seconds_.push_back(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  last_split_.total = ask_seconds_.back();
  last_split_.acquisition = std::max(0.0, last_split_.total - last_split_.fit - last_split_.factor);
  return {trials_.begin() + static_cast<std::ptrdiff_t>(first), trials_.end()};
}

void Study::push_trial(Eigen::VectorXd u, const char* source) {
  space_.snap(u);  // every suggestion carries the fixed values and meets the constraints
  Params p = space_.decode(u);
  push_trial(p, space_.encode(p), source);
}

void Study::push_trial(Params params, Eigen::VectorXd u, const char* source) {
  Trial t;
  t.id = static_cast<std::int64_t>(trials_.size());
  t.params = std::move(params);
  t.source = source;
  trials_.push_back(std::move(t));
  encoded_.push_back(std::move(u));
}

Trial& Study::find(std::int64_t trial_id) {
  if (trial_id < 0 || trial_id >= static_cast<std::int64_t>(trials_.size())) {
    throw NotFound("trial " + std::to_string(trial_id) + " does not exist");
  }
  return trials_[static_cast<std::size_t>(trial_id)];
}

const Trial& Study::trial(std::int64_t trial_id) const {
  return const_cast<Study*>(this)->find(trial_id);
}

Trial Study::tell(std::int64_t trial_id, double value, bool skip_if_finished) {
  if (!options_.metrics.empty()) return tell(trial_id, values_of(options_.metrics, value));
  Trial& t = find(trial_id);
  apply_value(&t, value, skip_if_finished, now_seconds());
  return t;
}

Trial Study::tell(std::int64_t trial_id, const MetricValues& values, bool skip_if_finished) {
  Trial& t = find(trial_id);
  apply_values(&t, options_.metrics, values, skip_if_finished, now_seconds());
  return t;
}

Trial Study::tell_state(std::int64_t trial_id, TrialState state, bool skip_if_finished) {
  Trial& t = find(trial_id);
  apply_state(&t, state, skip_if_finished, now_seconds());
  return t;
}

PruneAnswer Study::report(std::int64_t trial_id, std::int64_t step, double value) {
  check_reportable(options_.metrics);
  Trial& t = find(trial_id);
  apply_report(&t, step, value);
  return {t, should_prune(trial_id)};
}

bool Study::should_prune(std::int64_t trial_id) const {
  trial(trial_id);  // NotFound
  return gpbo::should_prune(options_.pruner, options_.direction, trials_, trial_id);
}

std::int64_t Study::add_trial(const Params& params, TrialState state, const MetricValues& values,
                              const std::string& source) {
  if (state != TrialState::kComplete) return add_trial(params, state, std::nullopt, source);
  Trial result;  // the rules of a tell decide what is stored
  apply_values(&result, options_.metrics, values, false, 0.0);
  const std::int64_t id =
      add_trial(params, TrialState::kComplete, result.value.value_or(0.0), source);
  trials_.back().value = result.value;
  trials_.back().values = std::move(result.values);
  return id;
}

std::int64_t Study::add_trial(const Params& params, TrialState state, std::optional<double> value,
                              const std::string& source) {
  Params p = space_.canonical(params);
  if (state == TrialState::kComplete && !(value && std::isfinite(*value))) {
    throw InvalidArgument("add_trial: a complete trial needs a finite value");
  }
  Eigen::VectorXd u = space_.encode(p);
  if (source == "initial") {
    // Keep the design sequence aligned with the restored design points (the centre first,
    // then one Sobol draw each), so the next design point is new rather than a long run of
    // rejected duplicates.
    if (design_index_++ > (warm_sources_.empty() ? 0 : 1)) design_->draw(1);
  }
  push_trial(std::move(p), std::move(u), source.c_str());
  Trial& t = trials_.back();
  t.state = state;
  // A pruned trial may carry its last intermediate value (models_value in engine/pruner.hpp).
  if (state == TrialState::kComplete || state == TrialState::kPruned) t.value = value;
  return t.id;
}

void Study::reseed(std::uint64_t stream) {
  // splitmix64 of (seed, stream): distinct, well-mixed streams for consecutive stream numbers.
  std::uint64_t z = options_.seed + 0x9E3779B97F4A7C15ULL * (stream + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  rng_.seed(z ^ (z >> 31));
}

void Study::enqueue(const Params& params) {
  Params p = space_.canonical(params);
  space_.check_constraints(p);
  queue_.push_back(std::move(p));
}

std::vector<Trial> Study::ask(int q, const Params& fixed) {
  if (fixed.empty()) return ask(q);
  // The ask runs on the sub-space: the same encoding (the model sees every trial), with the
  // fixed values pinned by Space::snap. The study's own space comes back whatever happens.
  Space restricted = space_.with_fixed(fixed);
  std::swap(space_, restricted);
  struct Restore {
    Space* space;
    Space* saved;
    ~Restore() { std::swap(*space, *saved); }
  } restore{&space_, &restricted};
  return ask(q);
}

std::optional<Trial> Study::best() const { return best_trial(options_, trials_); }

ParetoFront Study::pareto() const { return pareto_front(options_, trials_); }

}  // namespace gpbo
