#include "gpbo/study.hpp"

#include <algorithm>
#include <boost/math/distributions/normal.hpp>
#include <chrono>
#include <cmath>
#include <numeric>
#include <string>
#include <unordered_set>

#include "acquisition/qlognei.hpp"
#include "acquisition/thompson.hpp"
#include "backend/backend.hpp"
#include "common/text.hpp"
#include "gpbo/error.hpp"
#include "optim/acquisition_optimizer.hpp"
#include "optim/design.hpp"
#include "optim/sobol.hpp"
#include "optim/trust_region.hpp"

namespace gpbo {
namespace {

/// Two encoded points closer than this in every coordinate are the same suggestion.
constexpr double kDuplicateTol = 1e-9;
/// Auto noise model: noisy when the fitted noise exceeds this share of the signal variance.
constexpr double kNoisyShare = 0.05;
/// Observed points (best posterior mean first) that qLogNEI compares a batch against.
constexpr int kMaxNeiBaseline = 64;
/// Auto batch method: sequential greedy (or qLogNEI when noisy and q > 1) up to this q, Thompson
/// above.
constexpr int kMaxGreedyBatch = 16;

}  // namespace

Direction parse_direction(const std::string& text) {
  const std::string t = to_lower(text);
  if (t == "minimize" || t == "min") return Direction::kMinimize;
  if (t == "maximize" || t == "max") return Direction::kMaximize;
  throw InvalidArgument("direction '" + text + "': expected minimize or maximize");
}

std::string to_string(Direction d) { return d == Direction::kMinimize ? "minimize" : "maximize"; }

std::string to_string(TrialState s) {
  switch (s) {
    case TrialState::kRunning:
      return "running";
    case TrialState::kComplete:
      return "complete";
    case TrialState::kFailed:
      return "failed";
    case TrialState::kPruned:
      return "pruned";
  }
  return "?";
}

TrialState parse_trial_state(const std::string& text) {
  const std::string t = to_lower(text);
  if (t == "running") return TrialState::kRunning;
  if (t == "complete") return TrialState::kComplete;
  if (t == "failed" || t == "fail") return TrialState::kFailed;
  if (t == "pruned") return TrialState::kPruned;
  throw InvalidArgument("trial state '" + text + "': expected running, complete, failed or pruned");
}

OutputWarping parse_output_warping(const std::string& text) {
  const std::string t = to_lower(text);
  if (t == "none") return OutputWarping::kNone;
  if (t == "halfrank" || t == "half-rank") return OutputWarping::kHalfRank;
  if (t == "log") return OutputWarping::kLog;
  throw InvalidArgument("output warping '" + text + "': expected none, halfrank or log");
}

std::string to_string(OutputWarping w) {
  switch (w) {
    case OutputWarping::kNone:
      return "none";
    case OutputWarping::kHalfRank:
      return "halfrank";
    case OutputWarping::kLog:
      return "log";
  }
  return "?";
}

NoiseModel parse_noise_model(const std::string& text) {
  const std::string t = to_lower(text);
  if (t == "auto") return NoiseModel::kAuto;
  if (t == "deterministic") return NoiseModel::kDeterministic;
  if (t == "noisy") return NoiseModel::kNoisy;
  throw InvalidArgument("noise model '" + text + "': expected auto, deterministic or noisy");
}

std::string to_string(NoiseModel n) {
  switch (n) {
    case NoiseModel::kAuto:
      return "auto";
    case NoiseModel::kDeterministic:
      return "deterministic";
    case NoiseModel::kNoisy:
      return "noisy";
  }
  return "?";
}

Eigen::VectorXd warp_outputs(const Eigen::VectorXd& y, OutputWarping warping, double strength) {
  const Eigen::Index n = y.size();
  const double hi = y.maxCoeff(), lo = y.minCoeff();
  if (warping == OutputWarping::kNone || !(hi > lo)) return y;
  if (warping == OutputWarping::kLog) {
    if (!(strength > 1.0)) return y;
    const double scale = std::log(strength);
    return y.unaryExpr(
        [&](double v) { return -std::log1p((strength - 1.0) * (hi - v) / (hi - lo)) / scale; });
  }
  std::vector<double> sorted(y.data(), y.data() + n);
  std::sort(sorted.begin(), sorted.end());
  const double median = n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
  double ss = 0.0;
  int n_upper = 0;
  for (double v : sorted) {
    if (v >= median) {
      ss += (v - median) * (v - median);
      ++n_upper;
    }
  }
  const double sigma = std::sqrt(ss / std::max(n_upper, 1));
  if (!(sigma > 0.0)) return y;
  const boost::math::normal normal;
  Eigen::VectorXd out = y;
  for (Eigen::Index i = 0; i < n; ++i) {
    if (!(y(i) < median)) continue;
    // Mid-rank quantile of y(i) among all values (ties share their average rank), in (0, 0.5).
    const auto lo_it = std::lower_bound(sorted.begin(), sorted.end(), y(i));
    const auto hi_it = std::upper_bound(sorted.begin(), sorted.end(), y(i));
    const double rank =
        0.5 * static_cast<double>((lo_it - sorted.begin()) + (hi_it - sorted.begin()));
    const double q = rank / n;
    out(i) = median + sigma * boost::math::quantile(normal, std::clamp(q, 1e-12, 0.5));
  }
  return out;
}

BatchMethod parse_batch_method(const std::string& text) {
  const std::string t = to_lower(text);
  if (t == "auto") return BatchMethod::kAuto;
  if (t == "greedy") return BatchMethod::kGreedy;
  if (t == "qlognei") return BatchMethod::kQLogNei;
  if (t == "thompson" || t == "ts") return BatchMethod::kThompson;
  throw InvalidArgument("batch method '" + text + "': expected auto, greedy, qlognei or thompson");
}

std::string to_string(BatchMethod m) {
  switch (m) {
    case BatchMethod::kAuto:
      return "auto";
    case BatchMethod::kGreedy:
      return "greedy";
    case BatchMethod::kQLogNei:
      return "qlognei";
    case BatchMethod::kThompson:
      return "thompson";
  }
  return "?";
}

BatchMethod resolve_batch_method(BatchMethod requested, int q, bool noisy) {
  if (requested != BatchMethod::kAuto) return requested;
  if (q > kMaxGreedyBatch) return BatchMethod::kThompson;
  // One point: LogEI against the best posterior mean already handles noise (and is what the
  // single-point regret figures measure); qLogNEI pays off once a batch is chosen jointly.
  return noisy && q > 1 ? BatchMethod::kQLogNei : BatchMethod::kGreedy;
}

Strategy parse_strategy(const std::string& text) {
  const std::string t = to_lower(text);
  if (t == "auto") return Strategy::kAuto;
  if (t == "global") return Strategy::kGlobal;
  if (t == "trust-region" || t == "trust_region" || t == "turbo") return Strategy::kTrustRegion;
  throw InvalidArgument("strategy '" + text + "': expected global, trust-region or auto");
}

std::string to_string(Strategy s) {
  switch (s) {
    case Strategy::kAuto:
      return "auto";
    case Strategy::kGlobal:
      return "global";
    case Strategy::kTrustRegion:
      return "trust-region";
  }
  return "?";
}

int default_initial_design_size(int d) { return std::clamp(d + 2, 5, 20); }

void check_study_options(const StudyOptions& o) {
  if (o.n_initial < 0) throw InvalidArgument("study: n_initial must be >= 0");
  const AcquisitionOptimizerOptions& opt = o.optimizer;
  if (opt.raw_samples < 1 || opt.restarts < 0 || opt.anchors < 0 ||
      opt.perturbations_per_anchor < 0 || opt.refine_iterations < 0) {
    throw InvalidArgument(
        "study: acquisition optimizer options must be non-negative "
        "(raw_samples >= 1)");
  }
  if (!(o.ucb_beta >= 0.0) || !std::isfinite(o.ucb_beta)) {
    throw InvalidArgument("study: ucb_beta must be finite and >= 0");
  }
  const TrustRegionOptions& tr = o.trust_region;
  if (!(tr.length_min > 0.0 && tr.length_min <= tr.length_init && tr.length_init <= tr.length_max &&
        std::isfinite(tr.length_max)) ||
      tr.success_tolerance < 1 || tr.failure_tolerance < 0 || tr.n_candidates < 0 ||
      tr.max_points < 0 || !(tr.success_margin >= 0.0) || tr.auto_min_dim < 0 || tr.n_regions < 1 ||
      tr.n_regions > kMaxTrustRegions) {
    throw InvalidArgument(
        "study: trust region needs 0 < length_min <= length_init <= length_max (finite), "
        "success_tolerance >= 1, non-negative failure_tolerance, n_candidates, max_points, "
        "success_margin and auto_min_dim, and 1 <= n_regions <= " +
        std::to_string(kMaxTrustRegions));
  }
  if (tr.n_regions > 1 && o.batch_method != BatchMethod::kAuto &&
      o.batch_method != BatchMethod::kThompson) {
    throw InvalidArgument(
        "study: several trust regions split a batch by Thompson sampling; "
        "batch_method must be auto or thompson, not " +
        to_string(o.batch_method));
  }
}

Study::Study(Space space, StudyOptions options)
    : space_(std::move(space)), options_(std::move(options)), rng_(options_.seed) {
  if (space_.size() == 0) throw InvalidArgument("study: the search space has no parameters");
  check_study_options(options_);
  n_initial_ = options_.n_initial > 0 ? options_.n_initial
                                      : default_initial_design_size(space_.encoded_dim());
  design_ = std::make_unique<SobolSampler>(space_.encoded_dim(), rng_());
  gp_ = std::make_unique<GaussianProcess>(options_.gp, options_.device, options_.score_precision);
}

Study::~Study() = default;
Study::Study(Study&&) noexcept = default;
Study& Study::operator=(Study&&) noexcept = default;

Device Study::device() const { return gp_->backend().device(); }

Strategy Study::strategy() const {
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
  const std::optional<Trial> inc = best();
  TrustRegionState first;
  first.length = o.length_init;
  first.center = encoded_[static_cast<std::size_t>(inc->id)];
  first.best_value = inc->value;
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
    if (t.state == TrialState::kComplete && (!region_best || better(*t.value, *region_best->value)))
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
  if (!s.best_value) {
    // The first results of a restarted region set its reference; they count as neither.
    if (region_best) {
      s.best_value = region_best->value;
      s.center = encoded_[static_cast<std::size_t>(region_best->id)];
    }
    return;
  }
  const double best = *s.best_value;
  const double margin = o.success_margin * std::abs(best);
  const bool success =
      region_best && better(*region_best->value, maximize ? best + margin : best - margin);
  if (region_best && better(*region_best->value, best)) {
    s.best_value = region_best->value;
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
  s.region_start = static_cast<std::int64_t>(trials_.size());
  s.members.clear();
  if (regions_.size() > 1) s.n_seen = 0;
  ++s.restarts;
  tr_boxes_[r].resize(0, 0);
}

const Trial& Study::ask() { return trials_[static_cast<std::size_t>(ask(1).front().id)]; }

std::vector<Trial> Study::ask(int q) {
  if (q < 1) throw InvalidArgument("ask: q must be >= 1, got " + std::to_string(q));
  const auto start = std::chrono::steady_clock::now();
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
  ask_seconds_.push_back(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return {trials_.begin() + static_cast<std::ptrdiff_t>(first), trials_.end()};
}

bool Study::in_initial_design() const {
  // Enqueued trials count toward the initial design (as in Optuna); failed ones do not.
  std::size_t complete = 0, running = 0;
  for (const Trial& t : trials_) {
    complete += t.state == TrialState::kComplete;
    running += t.state == TrialState::kRunning;
  }
  return static_cast<int>(complete + running) < n_initial_ || complete == 0;
}

void Study::push_trial(Eigen::VectorXd u, const char* source) {
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

Eigen::VectorXd Study::suggest_initial() {
  // The centre of the box first (as Vizier does), then scrambled Sobol points.
  for (int attempt = 0; attempt < 1000; ++attempt) {
    Eigen::VectorXd u = design_index_++ == 0
                            ? Eigen::VectorXd::Constant(space_.encoded_dim(), 0.5)
                            : Eigen::VectorXd(sample_space(space_, *design_, 1).row(0).transpose());
    space_.snap(u);
    if (!is_duplicate(u)) return u;
  }
  // Random draws keep colliding: only a nearly used-up discrete space gets here. Walk it in
  // order so that the last free points are found too.
  if (space_.all_discrete()) {
    if (auto u = first_unused_discrete_point()) return *u;
  }
  throw Conflict("search space exhausted: no unsuggested point left");
}

std::optional<Eigen::VectorXd> Study::first_unused_discrete_point() const {
  constexpr double kMaxWalk = 1e6;  // larger spaces are never used up by random collisions
  std::vector<std::int64_t> size(space_.size()), digit(space_.size(), 0);
  double total = 1.0;
  for (std::size_t p = 0; p < space_.size(); ++p) {
    const ParamSpec& s = space_.params()[p];
    size[p] = s.type == ParamType::kCategorical
                  ? static_cast<std::int64_t>(s.choices.size())
                  : static_cast<std::int64_t>(s.high) - static_cast<std::int64_t>(s.low) + 1;
    total *= static_cast<double>(size[p]);
  }
  if (total > kMaxWalk) return std::nullopt;
  for (std::int64_t k = 0; k < static_cast<std::int64_t>(total); ++k) {
    Params point;
    for (std::size_t p = 0; p < space_.size(); ++p) {
      const ParamSpec& s = space_.params()[p];
      if (s.type == ParamType::kCategorical) {
        point[s.name] = s.choices[static_cast<std::size_t>(digit[p])];
      } else {
        point[s.name] = static_cast<std::int64_t>(s.low) + digit[p];
      }
    }
    const Eigen::VectorXd u = space_.encode(point);
    if (!is_duplicate(u)) return u;
    for (std::size_t p = 0; p < space_.size() && ++digit[p] == size[p]; ++p) digit[p] = 0;
  }
  return std::nullopt;
}

std::vector<Eigen::Index> Study::training_data(Eigen::MatrixXd* X, Eigen::VectorXd* y,
                                               const Eigen::VectorXd* center) const {
  const bool maximize = options_.direction == Direction::kMaximize;
  std::vector<Eigen::Index> done;
  for (std::size_t i = 0; i < trials_.size(); ++i) {
    if (trials_[i].state == TrialState::kComplete) done.push_back(static_cast<Eigen::Index>(i));
  }
  // Several regions compare Thompson draws of different local models: their values must be on
  // one scale, so every complete value is warped once, before any subset is taken.
  const bool warp_all = regions_.size() > 1;
  std::vector<double> warped;
  if (warp_all) {
    Eigen::VectorXd all(static_cast<Eigen::Index>(done.size()));
    for (std::size_t j = 0; j < done.size(); ++j) {
      const double v = *trials_[done[j]].value;
      all(static_cast<Eigen::Index>(j)) = maximize ? v : -v;
    }
    all = warp_outputs(all, options_.output_warping, options_.warp_strength);
    warped.assign(trials_.size(), 0.0);
    for (std::size_t j = 0; j < done.size(); ++j)
      warped[done[j]] = all(static_cast<Eigen::Index>(j));
  }
  const int max_points = options_.trust_region.max_points;
  if (center && max_points > 0 && static_cast<int>(done.size()) > max_points) {
    // A local model: the trials nearest the centre (the region's own data among them) decide
    // what happens inside the region, and the fit stays O(max_points^3) however long the study.
    std::vector<double> dist(trials_.size());
    for (Eigen::Index i : done) dist[i] = (encoded_[i] - *center).squaredNorm();
    std::nth_element(done.begin(), done.begin() + max_points, done.end(),
                     [&](Eigen::Index a, Eigen::Index b) { return dist[a] < dist[b]; });
    done.resize(static_cast<std::size_t>(max_points));
    std::sort(done.begin(), done.end());
  }
  X->resize(static_cast<Eigen::Index>(done.size()), space_.encoded_dim());
  y->resize(static_cast<Eigen::Index>(done.size()));  // internally maximized
  for (std::size_t j = 0; j < done.size(); ++j) {
    X->row(j) = encoded_[done[j]].transpose();
    const double v = *trials_[done[j]].value;
    (*y)(j) = warp_all ? warped[done[j]] : maximize ? v : -v;
  }
  if (!warp_all) *y = warp_outputs(*y, options_.output_warping, options_.warp_strength);
  return done;
}

std::unique_ptr<PosteriorFactor> Study::fit_and_condition(const Eigen::MatrixXd& X,
                                                          const Eigen::VectorXd& y) {
  if (hyper_fixed_ && last_hyper_ && last_hyper_->lengthscales.size() == space_.encoded_dim()) {
    gp_->condition(X, y, *last_hyper_);
  } else {
    gp_->fit(X, y, rng_(), last_hyper_ ? &*last_hyper_ : nullptr);
  }
  last_hyper_ = gp_->hyperparameters();
  return gp_->factor().clone();
}

std::unique_ptr<PosteriorFactor> Study::condition_on_running(
    std::unique_ptr<PosteriorFactor> factor, double* best_f) const {
  // Running trials (this batch's earlier points included) as fantasies at their posterior mean
  // (kriging believer): no refit, and the acquisition collapses around them.
  std::vector<Eigen::Index> running;
  for (std::size_t i = 0; i < trials_.size(); ++i) {
    if (trials_[i].state == TrialState::kRunning) running.push_back(static_cast<Eigen::Index>(i));
  }
  if (running.empty()) return factor;
  Eigen::MatrixXd Xr(running.size(), space_.encoded_dim());
  for (std::size_t j = 0; j < running.size(); ++j) Xr.row(j) = encoded_[running[j]].transpose();
  Eigen::VectorXd mu;
  factor->predict(Xr, &mu, nullptr);
  try {
    factor->append(Xr, mu);
    // A believed value is an observation: it can raise the incumbent, or the acquisition would
    // keep rewarding points whose mean already beats it, however certain they are.
    if (best_f) *best_f = std::max(*best_f, mu.maxCoeff());
  } catch (const NumericalError&) {
    factor = gp_->factor().clone();  // keep going without fantasies rather than fail the ask
  }
  return factor;
}

std::optional<GpHyperparameters> Study::fit_hyperparameters() {
  Eigen::MatrixXd X;
  Eigen::VectorXd y;
  const bool local = strategy() == Strategy::kTrustRegion && !regions_.empty();
  if (training_data(&X, &y, local ? &regions_[0].center : nullptr).empty()) return std::nullopt;
  gp_->fit(X, y, rng_(), last_hyper_ ? &*last_hyper_ : nullptr);
  last_hyper_ = gp_->hyperparameters();
  return last_hyper_;
}

void Study::suggest_from_model(int k) {
  const bool tr = strategy() == Strategy::kTrustRegion;
  if (tr) update_trust_regions(k);
  if (tr && regions_.size() > 1) {
    suggest_from_trust_regions(k);
    return;
  }
  const int D = space_.encoded_dim();
  Eigen::MatrixXd X;
  Eigen::VectorXd y;
  const std::vector<Eigen::Index> done = training_data(&X, &y, tr ? &regions_[0].center : nullptr);
  std::unique_ptr<PosteriorFactor> factor = fit_and_condition(X, y);
  const GpHyperparameters& h = *last_hyper_;

  AcquisitionParams acq;
  acq.type = options_.acquisition;
  acq.beta = options_.ucb_beta;
  const bool noisy =
      options_.noise == NoiseModel::kNoisy ||
      (options_.noise == NoiseModel::kAuto && h.noise > kNoisyShare * (h.noise + h.outputscale));
  Eigen::VectorXd score = (y.array() - gp_->y_mean()) / gp_->y_scale();
  if (noisy) factor->predict(X, &score, nullptr);
  acq.best_f = score.maxCoeff();
  factor = condition_on_running(std::move(factor), &acq.best_f);

  std::vector<Eigen::Index> order(done.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](Eigen::Index a, Eigen::Index b) { return score(a) > score(b); });
  const int n_anchor = std::min<int>(options_.optimizer.anchors, static_cast<int>(order.size()));
  Eigen::MatrixXd anchors(n_anchor, D);
  for (int a = 0; a < n_anchor; ++a) anchors.row(a) = X.row(order[a]);

  last_batch_method_ = resolve_batch_method(options_.batch_method, k, noisy);
  const Backend& backend = gp_->backend();
  // Trust region: candidates only inside the box, Thompson sampling unless a method was named
  // (TuRBO's default).
  int n_region = 0;
  if (tr) {
    if (options_.batch_method == BatchMethod::kAuto) last_batch_method_ = BatchMethod::kThompson;
    tr_boxes_.resize(1);
    tr_boxes_[0] =
        trust_region_bounds(space_, regions_[0].center, h.lengthscales, regions_[0].length);
    n_region = trust_region_candidate_count(k);
  }
  const auto raw_candidates = [&](const AcquisitionOptimizerOptions& o) {
    return tr ? trust_region_candidates(space_, regions_[0].center, tr_boxes_[0], n_region, rng_)
              : candidate_set(space_, anchors, o, rng_);
  };
  const auto optimize = [&]() {
    return tr ? optimize_acquisition_in_box(backend, *factor, acq, space_,
                                            raw_candidates(options_.optimizer), tr_boxes_[0],
                                            options_.optimizer)
              : optimize_acquisition(backend, *factor, acq, space_, anchors, options_.optimizer,
                                     rng_);
  };
  switch (last_batch_method_) {
    case BatchMethod::kAuto:  // resolved above
    case BatchMethod::kGreedy:
      for (int i = 0; i < k; ++i) {
        const AcquisitionCandidates cand = optimize();
        Eigen::VectorXd u = first_free(cand.X);
        if (u.size() == 0) u = suggest_initial();  // every candidate taken (throws if none left)
        push_trial(u, "model");
        if (i + 1 < k) {
          Eigen::VectorXd mu;
          factor->predict(u.transpose(), &mu, nullptr);
          try {
            factor->append(u.transpose(), mu);
            acq.best_f = std::max(acq.best_f, mu(0));
          } catch (const NumericalError&) {
            // The point is already (numerically) in the model; the duplicate check still holds.
          }
        }
      }
      return;
    case BatchMethod::kThompson: {
      AcquisitionOptimizerOptions o = options_.optimizer;
      o.raw_samples = std::clamp(4 * k, 2048, 5000);
      const Eigen::MatrixXd C = free_rows(raw_candidates(o));
      const std::vector<Eigen::Index> pick =
          thompson_select(backend, *factor, C, k, std::vector<bool>(C.rows(), false), rng_);
      for (Eigen::Index i : pick) push_trial(C.row(i).transpose(), "model");
      for (int i = static_cast<int>(pick.size()); i < k; ++i)
        push_trial(suggest_initial(), "model");
      return;
    }
    case BatchMethod::kQLogNei: {
      // Baseline: the observed points most likely to hold the incumbent.
      const int b = std::min<int>(kMaxNeiBaseline, static_cast<int>(order.size()));
      Eigen::MatrixXd baseline(b, D);
      for (int a = 0; a < b; ++a) baseline.row(a) = X.row(order[a]);
      // Candidates: LogEI's optimizer output (refined points first) plus the raw candidate set.
      const AcquisitionCandidates refined = optimize();
      const Eigen::MatrixXd raw = raw_candidates(options_.optimizer);
      Eigen::MatrixXd all(refined.X.rows() + raw.rows(), D);
      all << refined.X, raw;
      const Eigen::MatrixXd C = free_rows(all);
      std::vector<bool> taken(static_cast<std::size_t>(C.rows()), false);
      const QLogNei qnei(backend, *factor, baseline, k, rng_());
      Eigen::MatrixXd S(0, D);
      for (int i = 0; i < k; ++i) {
        const Eigen::VectorXd v = qnei.extend_scores(S, C);
        Eigen::Index best = -1;
        for (Eigen::Index r = 0; r < C.rows(); ++r) {
          if (!taken[static_cast<std::size_t>(r)] && (best < 0 || v(r) > v(best))) best = r;
        }
        Eigen::VectorXd u = best < 0 ? suggest_initial() : Eigen::VectorXd(C.row(best).transpose());
        if (best >= 0) taken[static_cast<std::size_t>(best)] = true;
        push_trial(u, "model");
        S.conservativeResize(S.rows() + 1, Eigen::NoChange);
        S.row(S.rows() - 1) = encoded_.back().transpose();
      }
      return;
    }
  }
}

int Study::trust_region_candidate_count(int k) const {
  if (options_.trust_region.n_candidates > 0) return options_.trust_region.n_candidates;
  const int P = static_cast<int>(space_.size());
  return std::max(std::min(5000, std::max(2000, 200 * P)), 2 * k);
}

void Study::suggest_from_trust_regions(int k) {
  // TuRBO-m (Eriksson et al. 2019): every region draws k joint Thompson samples over its own
  // candidates from its own local model; the batch's j-th point is the best j-th draw across
  // all regions. The regions share the complete trials: while there are at most max_points,
  // their models are one and the same fit.
  last_batch_method_ = BatchMethod::kThompson;
  const Backend& backend = gp_->backend();
  const int m = static_cast<int>(regions_.size());
  const int n_each = std::max(trust_region_candidate_count(k) / m, 2 * k);
  tr_boxes_.assign(regions_.size(), Eigen::MatrixXd());
  std::vector<Eigen::MatrixXd> C(regions_.size()), F(regions_.size());
  std::vector<Eigen::Index> last_done;
  std::unique_ptr<PosteriorFactor> factor;
  double y_mean = 0.0, y_scale = 1.0;
  for (int r = 0; r < m; ++r) {
    TrustRegionState& s = regions_[static_cast<std::size_t>(r)];
    Eigen::MatrixXd X;
    Eigen::VectorXd y;
    const std::vector<Eigen::Index> done = training_data(&X, &y, &s.center);
    if (!factor || done != last_done) {
      factor = condition_on_running(fit_and_condition(X, y), nullptr);
      y_mean = gp_->y_mean();
      y_scale = gp_->y_scale();
      last_done = done;
    }
    tr_boxes_[r] = trust_region_bounds(space_, s.center, last_hyper_->lengthscales, s.length);
    C[r] = free_rows(trust_region_candidates(space_, s.center, tr_boxes_[r], n_each, rng_));
    if (C[r].rows() == 0) continue;
    // Draws on the common (warped, maximized) scale, so that regions can be compared.
    F[r] =
        (draw_joint_posterior(backend, *factor, C[r], k, rng_).array() * y_scale + y_mean).matrix();
  }
  std::vector<std::vector<bool>> taken(regions_.size());
  for (int r = 0; r < m; ++r) taken[r].assign(static_cast<std::size_t>(C[r].rows()), false);
  for (int j = 0; j < k; ++j) {
    bool pushed = false;
    while (!pushed) {
      int best_r = -1;
      Eigen::Index best_i = -1;
      for (int r = 0; r < m; ++r) {
        for (Eigen::Index i = 0; i < C[r].rows(); ++i) {
          if (!taken[r][static_cast<std::size_t>(i)] &&
              (best_r < 0 || F[r](i, j) > F[best_r](best_i, j))) {
            best_r = r;
            best_i = i;
          }
        }
      }
      if (best_r < 0) {  // every candidate of every region is taken
        push_trial(suggest_initial(), "model");
        break;
      }
      taken[best_r][static_cast<std::size_t>(best_i)] = true;
      const Eigen::VectorXd u = C[best_r].row(best_i).transpose();
      if (is_duplicate(u)) continue;  // another region's pick of this batch (discrete spaces)
      push_trial(u, "model");
      regions_[static_cast<std::size_t>(best_r)].members.push_back(trials_.back().id);
      pushed = true;
    }
  }
}

Eigen::VectorXd Study::first_free(const Eigen::MatrixXd& candidates) const {
  for (Eigen::Index i = 0; i < candidates.rows(); ++i) {
    Eigen::VectorXd u = candidates.row(i).transpose();
    if (!is_duplicate(u)) return u;
  }
  return {};
}

Eigen::MatrixXd Study::free_rows(const Eigen::MatrixXd& C) const {
  // Drop rows equal to a trial or to an earlier row (discrete spaces repeat points): a joint
  // covariance over copies of one point is singular and wastes the candidate budget.
  std::vector<Eigen::Index> keep;
  std::unordered_set<std::string> seen;
  for (Eigen::Index i = 0; i < C.rows(); ++i) {
    const Eigen::VectorXd u = C.row(i).transpose();
    const std::string key(reinterpret_cast<const char*>(u.data()), sizeof(double) * u.size());
    if (seen.insert(key).second && !is_duplicate(u)) keep.push_back(i);
  }
  Eigen::MatrixXd out(static_cast<Eigen::Index>(keep.size()), C.cols());
  for (std::size_t i = 0; i < keep.size(); ++i)
    out.row(static_cast<Eigen::Index>(i)) = C.row(keep[i]);
  return out;
}

bool Study::is_duplicate(const Eigen::VectorXd& u) const {
  // Early exit at the first differing coordinate: candidate sets of thousands of points are
  // checked against thousands of trials in hundreds of dimensions.
  const Eigen::Index D = u.size();
  for (const Eigen::VectorXd& e : encoded_) {
    Eigen::Index j = 0;
    while (j < D && std::abs(e(j) - u(j)) < kDuplicateTol) ++j;
    if (j == D) return true;
  }
  return false;
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

void Study::tell(std::int64_t trial_id, double value) {
  Trial& t = find(trial_id);
  if (!std::isfinite(value)) {
    tell_failed(trial_id);
    return;
  }
  if (t.state == TrialState::kComplete) {
    if (*t.value == value) return;
    throw Conflict("trial " + std::to_string(trial_id) + " is already complete with value " +
                   std::to_string(*t.value));
  }
  if (t.state != TrialState::kRunning) {
    throw Conflict("trial " + std::to_string(trial_id) + " is already " + to_string(t.state));
  }
  t.state = TrialState::kComplete;
  t.value = value;
}

void Study::tell_failed(std::int64_t trial_id) {
  Trial& t = find(trial_id);
  if (t.state == TrialState::kComplete || t.state == TrialState::kPruned) {
    throw Conflict("trial " + std::to_string(trial_id) + " is already " + to_string(t.state));
  }
  t.state = TrialState::kFailed;
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
    if (design_index_++ > 0) design_->draw(1);
  }
  push_trial(std::move(p), std::move(u), source.c_str());
  Trial& t = trials_.back();
  t.state = state;
  if (state == TrialState::kComplete) t.value = value;
  return t.id;
}

void Study::reseed(std::uint64_t stream) {
  // splitmix64 of (seed, stream): distinct, well-mixed streams for consecutive stream numbers.
  std::uint64_t z = options_.seed + 0x9E3779B97F4A7C15ULL * (stream + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  rng_.seed(z ^ (z >> 31));
}

void Study::enqueue(const Params& params) { queue_.push_back(space_.canonical(params)); }

std::optional<Trial> Study::best() const {
  const Trial* best = nullptr;
  const bool maximize = options_.direction == Direction::kMaximize;
  for (const Trial& t : trials_) {
    if (t.state != TrialState::kComplete) continue;
    if (!best || (maximize ? *t.value > *best->value : *t.value < *best->value)) best = &t;
  }
  if (!best) return std::nullopt;
  return *best;
}

}  // namespace gpbo
